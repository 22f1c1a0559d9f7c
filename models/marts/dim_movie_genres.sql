{#-
    Genres as metadata: what a movie is, to check what the factor models found (genre recovery,
    the genre colours of the latent-space map). No recommender reads it.
-#}
with

movie_genres as (
    select * from {{ ref('stg_ingest__movie_genres') }}
),

genre_sizes as (
    select
        genre,
        count(*) as genre_movie_count
    from movie_genres
    group by genre
),

ranked as (
    select
        movie_genres.movie_id,
        movie_genres.genre,
        genre_sizes.genre_movie_count,
        count(*) over (partition by movie_genres.movie_id) as movie_genre_count,
        row_number() over (
            partition by movie_genres.movie_id
            order by genre_sizes.genre_movie_count, movie_genres.genre
        ) as specificity_rank
    from movie_genres
    inner join genre_sizes
        on movie_genres.genre = genre_sizes.genre
),

final as (
    select
        movie_id,
        genre,
        genre_movie_count,
        cast(movie_genre_count as integer) as movie_genre_count,
        specificity_rank = 1 as is_main_genre
    from ranked
)

select * from final
order by movie_id, genre
