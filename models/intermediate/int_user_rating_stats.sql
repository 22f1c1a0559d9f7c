{{ config(materialized='table') }}

{#-
    Per-user aggregates, computed once (one pass) from int_ratings_subset (the rows of
    fct_ratings) and read by dim_users and mart_ratings_over_time.
-#}

with

ratings as (
    select
        user_id,
        movie_id,
        rating,
        rated_on
    from {{ ref('int_ratings_subset') }}
),

final as (
    select
        user_id,
        count(*) as rating_count,
        sum(rating) as rating_sum,
        avg(rating) as mean_rating,
        min(rated_on) as first_rated_on,
        max(rated_on) as last_rated_on
    from ratings
    group by user_id
)

select * from final
