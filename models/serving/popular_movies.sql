{#-
    The popularity fallback: every rated movie by number of ratings (training-independent:
    counted on fct_ratings, the same as dim_movies.popularity_rank). Users with too few ratings,
    or unknown to the serving model, get the most popular movies they have not rated.
-#}
with

movies as (
    select * from {{ ref('dim_movies') }}
),

users as (
    select * from {{ ref('dim_users') }}
),

user_count as (
    select count(*) as user_count
    from users
),

rated_movies as (
    select
        movies.movie_id,
        movies.title,
        movies.release_year,
        movies.rating_count,
        movies.rating_count / user_count.user_count as score,
        cast(row_number() over (order by movies.rating_count desc, movies.movie_id) as bigint) as popularity_rank
    from movies
    cross join user_count
    where movies.rating_count > 0
),

final as (
    select
        popularity_rank,
        movie_id,
        title,
        release_year,
        rating_count,
        score
    from rated_movies
    order by popularity_rank
)

select * from final
