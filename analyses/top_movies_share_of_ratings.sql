-- How much of all the ratings do the most popular movies take? The long tail in four rows.
-- One row per tier of movies by popularity (top 1%, next 9%, next 40%, bottom half): how many
-- movies, how many ratings, and their share of all ratings.

with

long_tail as (
    select * from {{ ref('mart_long_tail') }}
),

tiered as (
    select
        case
            when cumulative_movie_share <= 0.01 then 1
            when cumulative_movie_share <= 0.10 then 2
            when cumulative_movie_share <= 0.50 then 3
            else 4
        end as tier_order,
        rating_count
    from long_tail
),

tiers as (
    select
        tier_order,
        case tier_order
            when 1 then 'top 1% of movies'
            when 2 then 'next 9%'
            when 3 then 'next 40%'
            else 'bottom 50%'
        end as tier,
        count(*) as movie_count,
        sum(rating_count) as rating_count,
        round(sum(rating_count) / sum(sum(rating_count)) over (), 3) as rating_share
    from tiered
    group by tier_order
    order by tier_order
)

select * from tiers
{#- DuckDB only: `make sql` reads these on the DuckDB warehouse (issue 15: not on the Spark target) -#}
{{ config(enabled=target.type != 'spark') }}
