with

ratings as (
    select * from {{ ref('int_ratings_subset') }}
),

final as (
    select
        user_id,
        movie_id,
        rating,
        rated_on
    from ratings
)

select * from final
