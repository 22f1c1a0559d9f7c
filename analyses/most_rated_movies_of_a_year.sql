-- Which movies released in a given year were rated most, and how well?
-- Parameter: set variable year = 2001;  (default: the release year with the most ratings)
-- One row per movie of that year, the 20 most rated first.

with

movies as (
    select * from {{ ref('dim_movies') }}
),

release_years as (
    select * from {{ ref('mart_release_years') }}
),

busiest_year as (
    select release_year
    from release_years
    where release_year is not null
    order by rating_count desc, release_year desc
    limit 1
),

chosen_year as (
    select coalesce(getvariable('year'), (select release_year from busiest_year)) as release_year
),

movies_of_the_year as (
    select
        movies.release_year,
        movies.popularity_rank,
        movies.title,
        movies.rating_count,
        round(movies.mean_rating, 2) as mean_rating,
        round(movies.damped_mean_rating, 2) as damped_mean_rating
    from movies
    inner join chosen_year
        on movies.release_year = chosen_year.release_year
    order by movies.rating_count desc, movies.movie_id
    limit 20
)

select * from movies_of_the_year
{#- DuckDB only: `make sql` reads these on the DuckDB warehouse (issue 15: not on the Spark target) -#}
{{ config(enabled=target.type != 'spark') }}
