{#-
    One table of genres whatever the source: the optional movie_genres.csv beside Netflix-layout
    files (raw.movie_genres: the built-in sample's planted genres) and the MovieLens genres
    (raw.movies.genres, pipe-separated, from u.item flags, movies.dat or movies.csv). Empty for
    the real Netflix Prize data, which has no genres. No recommender reads it.
-#}
with

listed_genres as (
    select * from {{ source('ingest', 'movie_genres') }}
),

movies as (
    select * from {{ source('ingest', 'movies') }}
    where genres is not null
),

movielens_genres as (
    select
        movie_id,
        {{ split_to_rows('genres', '|') }} as genre
    from movies
),

unioned as (
    select movie_id, trim(genre) as genre from listed_genres
    union
    select movie_id, trim(genre) as genre from movielens_genres
),

final as (
    select
        cast(movie_id as integer) as movie_id,
        genre
    from unioned
    where genre <> ''
)

select * from final
