-- How do people rate? The share of each star, overall and year by year.
-- One row per period ('all', then each year of rated_on): the share of 1, 2, 3, 4 and 5 stars
-- (MovieLens half stars are rounded up into the star above) and the mean rating.

with

distribution as (
    select * from {{ ref('mart_rating_distribution') }}
),

by_period as (
    select
        period,
        rating_year,
        sum(rating_count) as rating_count,
        round(sum(rating * rating_count) / sum(rating_count), 3) as mean_rating,
        round(sum(rating_share) filter (where ceil(rating) = 1), 3) as share_1_star,
        round(sum(rating_share) filter (where ceil(rating) = 2), 3) as share_2_stars,
        round(sum(rating_share) filter (where ceil(rating) = 3), 3) as share_3_stars,
        round(sum(rating_share) filter (where ceil(rating) = 4), 3) as share_4_stars,
        round(sum(rating_share) filter (where ceil(rating) = 5), 3) as share_5_stars
    from distribution
    group by period, rating_year
    order by rating_year nulls first
)

select * from by_period
{#- DuckDB only: `make sql` reads these on the DuckDB warehouse (issue 15: not on the Spark target) -#}
{{ config(enabled=target.type != 'spark') }}
