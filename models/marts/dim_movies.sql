with

movies as (
    select * from {{ ref('stg_ingest__movies') }}
),

movie_rating_stats as (
    select * from {{ ref('int_movie_rating_stats') }}
),

movie_genres as (
    select * from {{ ref('dim_movie_genres') }}
),

genre_lists as (
    select
        movie_id,
        {{ sorted_string_agg('genre', '|') }} as genres,
        max(genre) filter (where is_main_genre) as main_genre
    from movie_genres
    group by movie_id
),

final as (
    select
        coalesce(movies.movie_id, movie_rating_stats.movie_id) as movie_id,
        movies.title,
        movies.release_year,
        -- how every table and the API name a movie: 'Heat (1995)', 'Heat' without a year,
        -- 'movie 123' without a title
        coalesce(movies.title, 'movie ' || coalesce(movies.movie_id, movie_rating_stats.movie_id))
            || coalesce(' (' || movies.release_year || ')', '') as label,
        genre_lists.genres,
        genre_lists.main_genre,
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
    left join genre_lists
        on coalesce(movies.movie_id, movie_rating_stats.movie_id) = genre_lists.movie_id
)

select * from final
