with

movie_rating_stats as (
    select * from {{ ref('int_movie_rating_stats') }}
),

movies as (
    select * from {{ ref('stg_ingest__movies') }}
),

curve as (
    select
        movie_rating_stats.popularity_rank,
        movie_rating_stats.movie_id,
        movies.title,
        movie_rating_stats.rating_count,
        {{ share_of_total('movie_rating_stats.rating_count') }} as rating_share,
        cast(movie_rating_stats.popularity_rank as double)
            / count(*) over () as cumulative_movie_share,
        movie_rating_stats.cumulative_rating_count,
        movie_rating_stats.cumulative_rating_share,
        movie_rating_stats.is_head
    from movie_rating_stats
    left join movies
        on movie_rating_stats.movie_id = movies.movie_id
),

final as (
    select * from curve
    order by popularity_rank
)

select * from final
