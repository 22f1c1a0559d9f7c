{{ config(materialized='table') }}

{#- Per-user aggregates, computed once from fct_ratings (one pass) and read by dim_users and mart_ratings_over_time. -#}

with

ratings as (
    select * from {{ ref('fct_ratings') }}
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
