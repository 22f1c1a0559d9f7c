{#- The headline numbers of the data set (the subset in fct_ratings), from the small dims only. -#}
with

users as (
    select * from {{ ref('dim_users') }}
),

movies as (
    select * from {{ ref('dim_movies') }}
),

user_totals as (
    select
        count(*) as user_count,
        cast(sum(rating_count) as bigint) as rating_count,
        sum(rating_count * mean_rating) / sum(rating_count) as mean_rating,
        min(first_rated_on) as first_rated_on,
        max(last_rated_on) as last_rated_on
    from users
),

movie_totals as (
    select
        count(*) as catalog_movie_count,
        count(*) filter (where rating_count > 0) as movie_count
    from movies
),

final as (
    select
        user_totals.rating_count,
        user_totals.user_count,
        movie_totals.movie_count,
        movie_totals.catalog_movie_count,
        user_totals.mean_rating,
        user_totals.first_rated_on,
        user_totals.last_rated_on,
        cast(user_totals.rating_count as double)
            / (cast(user_totals.user_count as double) * movie_totals.movie_count) as density
    from user_totals
    cross join movie_totals
)

select * from final
