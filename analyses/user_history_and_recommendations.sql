-- What did a user rate highly, and what do we recommend to them? Side by side, rank by rank.
-- Parameter: set variable user_id = 42;  (default: the user with personal recommendations
-- whose number of ratings is the median of those users)
-- One row per rank: the user's n-th best rating (stars, then most recent) next to the n-th
-- recommendation, with its score and reason.

with

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

history as (
    select
        row_number() over (order by ratings.rating desc, ratings.rated_on desc, ratings.movie_id) as rank,
        movies.title as rated_title,
        ratings.rating,
        ratings.rated_on
    from ratings
    inner join chosen_user
        on ratings.user_id = chosen_user.user_id
    inner join movies
        on ratings.movie_id = movies.movie_id
    qualify rank <= (select max(rank) from recommendations)
),

recommended as (
    select
        recommendations.rank,
        movies.title as recommended_title,
        round(recommendations.score, 3) as score,
        recommendations.reason,
        recommendations.model_name
    from recommendations
    inner join chosen_user
        on recommendations.user_id = chosen_user.user_id
    inner join movies
        on recommendations.movie_id = movies.movie_id
),

side_by_side as (
    select
        (select user_id from chosen_user) as user_id,
        coalesce(history.rank, recommended.rank) as rank,
        history.rated_title,
        history.rating,
        history.rated_on,
        recommended.recommended_title,
        recommended.score,
        recommended.reason,
        recommended.model_name
    from history
    full outer join recommended
        on history.rank = recommended.rank
    order by rank
)

select * from side_by_side
{#- DuckDB only: `make sql` reads these on the DuckDB warehouse (issue 15: not on the Spark target) -#}
{{ config(enabled=target.type != 'spark') }}
