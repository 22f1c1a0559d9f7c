with

split as (
    select * from {{ ref('int_ratings_split') }}
),

train as (
    select
        user_id,
        movie_id,
        rating,
        rated_on
    from split
    where split = 'train'
)

select * from train
