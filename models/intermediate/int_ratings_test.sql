{{ config(materialized='table') }}

with

split as (
    select * from {{ ref('int_ratings_split') }}
),

test as (
    select
        user_id,
        movie_id,
        rating,
        rated_on
    from split
    where split = 'test'
)

select * from test
