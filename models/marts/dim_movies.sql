with

movies as (
    select * from {{ ref('stg_ingest__movies') }}
),

movie_rating_stats as (
    select * from {{ ref('int_movie_rating_stats') }}
),

final as (
    select
        coalesce(movies.movie_id, movie_rating_stats.movie_id) as movie_id,
        movies.title,
        movies.release_year,
        movies.genres,
        coalesce(movie_rating_stats.rating_count, 0) as rating_count,
        movie_rating_stats.mean_rating,
        movie_rating_stats.damped_mean_rating,
        movie_rating_stats.rating_stddev,
        movie_rating_stats.first_rated_on,
        movie_rating_stats.last_rated_on,
        movie_rating_stats.popularity_rank,
        coalesce(movie_rating_stats.is_head, false) as is_head
    from movies
    full outer join movie_rating_stats
        on movies.movie_id = movie_rating_stats.movie_id
)

select * from final
