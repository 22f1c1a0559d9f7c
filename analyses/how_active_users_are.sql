-- How many ratings does a user make, and how much do the heaviest users weigh?
-- One row per activity bucket (users with 1, 2-3, 4-7, ... ratings): users, their ratings,
-- and the shares of each; then the top 1% and 10% of users in the last two columns of every row.

with

activity as (
    select * from {{ ref('mart_user_activity') }}
),

summary as (
    select * from {{ ref('mart_user_activity_summary') }}
),

buckets as (
    select
        activity.activity_bucket,
        activity.user_count,
        activity.rating_count,
        round(activity.user_share, 3) as user_share,
        round(activity.rating_share, 3) as rating_share,
        round(activity.ratings_per_user, 1) as ratings_per_user,
        summary.median_ratings_per_user,
        round(summary.top_1pct_rating_share, 3) as top_1pct_users_rating_share,
        round(summary.top_10pct_rating_share, 3) as top_10pct_users_rating_share
    from activity
    cross join summary
    order by activity.activity_bucket_floor
)

select * from buckets
{#- DuckDB only: `make sql` reads these on the DuckDB warehouse (issue 15: not on the Spark target) -#}
{{ config(enabled=target.type != 'spark') }}
