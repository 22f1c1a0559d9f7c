-- Who gets personal recommendations, and who gets the popular-movies fallback (cold start)?
-- One row per user activity bucket: users, the share served by the model rather than the
-- fallback, how many distinct movies they are recommended, and the share of those
-- recommendations that are in the long tail (not in dim_movies' head).

with

recommendations as (
    select * from {{ ref('user_recommendations') }}
),

users as (
    select * from {{ ref('dim_users') }}
),

movies as (
    select * from {{ ref('dim_movies') }}
),

per_bucket as (
    select
        users.activity_bucket_floor,
        users.activity_bucket,
        count(distinct users.user_id) as user_count,
        round(count(distinct users.user_id) filter (where not recommendations.is_fallback)
            / count(distinct users.user_id), 3) as personal_share,
        count(distinct recommendations.movie_id) as distinct_movie_count,
        round(avg(case when movies.is_head then 0 else 1 end), 3) as long_tail_share
    from recommendations
    inner join users
        on recommendations.user_id = users.user_id
    inner join movies
        on recommendations.movie_id = movies.movie_id
    group by users.activity_bucket_floor, users.activity_bucket
    order by users.activity_bucket_floor
)

select * from per_bucket
{#- DuckDB only: `make sql` reads these on the DuckDB warehouse (issue 15: not on the Spark target) -#}
{{ config(enabled=target.type != 'spark') }}
