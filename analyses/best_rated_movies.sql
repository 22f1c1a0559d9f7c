-- Which movies are really the best rated?
-- A raw mean favours movies with a handful of 5s; the damped mean (pulled towards the global
-- mean, more so for few ratings) does not.
-- Parameter: set variable min_ratings = 50;  (default: the median number of ratings per movie)
-- One row per movie, the 20 best by damped mean among movies with at least min_ratings ratings,
-- with where the raw mean alone would rank them among all movies.

with

movies as (
    select * from {{ ref('dim_movies') }}
),

ranked as (
    select
        movie_id,
        title,
        release_year,
        rating_count,
        round(mean_rating, 2) as mean_rating,
        round(damped_mean_rating, 2) as damped_mean_rating,
        rank() over (order by mean_rating desc nulls last) as raw_mean_rank
    from movies
    where rating_count > 0
),

enough_ratings as (
    select *
    from ranked
    where rating_count >= coalesce(getvariable('min_ratings'), (select median(rating_count) from ranked))
    order by damped_mean_rating desc, rating_count desc, movie_id
    limit 20
)

select * from enough_ratings
{#- DuckDB only: `make sql` reads these on the DuckDB warehouse (issue 15: not on the Spark target) -#}
{{ config(enabled=target.type != 'spark') }}
