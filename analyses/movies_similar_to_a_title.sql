-- Which movies are most similar to a movie, found by (part of) its title?
-- Parameter: set variable title = 'garden';  (any case; the most-rated match is used;
-- default: the most-rated movie)
-- One row per similar movie (cosine of the serving model's movie factors), most similar first.

with

movies as (
    select * from {{ ref('dim_movies') }}
),

neighbours as (
    select * from {{ ref('mart_movie_neighbours') }}
),

chosen_movie as (
    select movies.movie_id
    from movies
    where getvariable('title') is null
        or movies.title ilike '%' || getvariable('title') || '%'
    order by movies.rating_count desc, movies.movie_id
    limit 1
),

similar_movies as (
    select
        neighbours.label as movie,
        neighbours.rank,
        neighbours.similar_label as similar_movie,
        round(neighbours.similarity, 3) as similarity,
        neighbours.similar_rating_count,
        round(neighbours.similar_mean_rating, 2) as similar_mean_rating
    from neighbours
    inner join chosen_movie
        on neighbours.movie_id = chosen_movie.movie_id
    order by neighbours.rank
)

select * from similar_movies
{#- DuckDB only: `make sql` reads these on the DuckDB warehouse (issue 15: not on the Spark target) -#}
{{ config(enabled=target.type != 'spark') }}
