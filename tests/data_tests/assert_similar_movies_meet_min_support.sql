-- Minimum support: every movie suggested in similar_movies has at least
-- var('similar_movies_min_ratings') ratings in fct_ratings (dim_movies.rating_count), so that
-- obscure titles do not dominate. Fails with one row per suggestion below it.
with

similar_movies as (
    select * from {{ ref('similar_movies') }}
),

movies as (
    select * from {{ ref('dim_movies') }}
)

select
    similar_movies.movie_id,
    similar_movies.rank,
    similar_movies.similar_movie_id,
    movies.rating_count
from similar_movies
left join movies
    on similar_movies.similar_movie_id = movies.movie_id
where coalesce(movies.rating_count, 0) < {{ var('similar_movies_min_ratings') }}
