-- Why was this movie recommended to this user?
-- Parameters: set variable user_id = 42; set variable movie_id = 7;
-- (defaults: the user of user_history_and_recommendations and their first recommendation)
-- The score is global mean + user bias + movie bias + taste match (the dot product of the
-- user's and the movie's factors in the serving model). One row per movie the user rated at
-- least var reason_min_rating, most similar to the recommended one first (cosine of the movie
-- factors): the one at the top is the reason shown with the recommendation.

with

config as (
    select * from {{ ref('serving_config') }}
),

ratings as (
    select * from {{ ref('fct_ratings') }}
),

movies as (
    select * from {{ ref('dim_movies') }}
),

users as (
    select * from {{ ref('dim_users') }}
),

recommendations as (
    select * from {{ ref('user_recommendations') }}
),

user_factors as (
    select * from {{ ref('user_factors') }}
    where model_name = (select model_name from config)
),

movie_factors as (
    select * from {{ ref('movie_factors') }}
    where model_name = (select model_name from config)
),

personal_users as (
    select users.user_id, users.rating_count
    from users
    where users.user_id in (select user_id from recommendations where not is_fallback)
),

typical_user as (
    select user_id
    from personal_users
    order by abs(rating_count - (select median(rating_count) from personal_users)), user_id
    limit 1
),

chosen_user as (
    select coalesce(getvariable('user_id'), (select user_id from typical_user)) as user_id
),

chosen_movie as (
    select coalesce(
        getvariable('movie_id'),
        (
            select recommendations.movie_id
            from recommendations
            where recommendations.user_id = (select user_id from chosen_user)
            order by recommendations.rank
            limit 1
        )
    ) as movie_id
),

score_parts as (
    select
        config.model_name,
        config.global_mean,
        user_factors.bias as user_bias,
        movie_factors.bias as movie_bias,
        coalesce(array_inner_product(user_factors.factors, movie_factors.factors), 0) as taste_match,
        movie_factors.factors as movie_vector
    from config
    inner join user_factors
        on user_factors.user_id = (select user_id from chosen_user)
    inner join movie_factors
        on movie_factors.movie_id = (select movie_id from chosen_movie)
),

liked_movies as (
    select
        ratings.movie_id,
        ratings.rating
    from ratings
    where ratings.user_id = (select user_id from chosen_user)
        and ratings.rating >= (select reason_min_rating from config)
),

evidence as (
    select
        (select user_id from chosen_user) as user_id,
        recommended.title as recommended_title,
        score_parts.model_name,
        round(
            score_parts.global_mean + score_parts.user_bias + score_parts.movie_bias + score_parts.taste_match, 3
        ) as score,
        round(score_parts.global_mean, 3) as global_mean,
        round(score_parts.user_bias, 3) as user_bias,
        round(score_parts.movie_bias, 3) as movie_bias,
        round(score_parts.taste_match, 3) as taste_match,
        liked.title as rated_title,
        liked_movies.rating,
        round(array_cosine_similarity(score_parts.movie_vector, liked_factors.factors), 3) as similarity
    from score_parts
    cross join liked_movies
    inner join movie_factors as liked_factors
        on liked_movies.movie_id = liked_factors.movie_id
    inner join movies as liked
        on liked_movies.movie_id = liked.movie_id
    inner join movies as recommended
        on recommended.movie_id = (select movie_id from chosen_movie)
    order by similarity desc nulls last, liked_movies.movie_id
    limit 10
)

select * from evidence
{#- DuckDB only: `make sql` reads these on the DuckDB warehouse (issue 15: not on the Spark target) -#}
{{ config(enabled=target.type != 'spark') }}
