with

movies as (
    select * from {{ ref('stg_ingest__movies') }}
),

ratings as (
    select * from {{ ref('fct_ratings') }}
),

rated_movies as (
    select distinct movie_id
    from ratings
),

all_movies as (
    select
        coalesce(movies.movie_id, rated_movies.movie_id) as movie_id,
        movies.title,
        movies.release_year,
        movies.genres
    from movies
    full outer join rated_movies
        on movies.movie_id = rated_movies.movie_id
)

select * from all_movies
