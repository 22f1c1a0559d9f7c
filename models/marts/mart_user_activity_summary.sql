with

users as (
    select * from {{ ref('dim_users') }}
),

with_user_count as (
    select
        *,
        count(*) over () as user_count
    from users
),

final as (
    select
        count(*) as user_count,
        cast(sum(rating_count) as bigint) as rating_count,
        avg(rating_count) as mean_ratings_per_user,
        min(rating_count) as min_ratings_per_user,
        {{ quantile_cont('rating_count', 0.25) }} as p25_ratings_per_user,
        {{ quantile_cont('rating_count', 0.50) }} as median_ratings_per_user,
        {{ quantile_cont('rating_count', 0.75) }} as p75_ratings_per_user,
        {{ quantile_cont('rating_count', 0.90) }} as p90_ratings_per_user,
        {{ quantile_cont('rating_count', 0.99) }} as p99_ratings_per_user,
        max(rating_count) as max_ratings_per_user,
        count(*) filter (where activity_rank <= ceil(0.01 * user_count)) as top_1pct_user_count,
        cast(sum(rating_count) filter (where activity_rank <= ceil(0.01 * user_count)) as double)
            / sum(rating_count) as top_1pct_rating_share,
        count(*) filter (where activity_rank <= ceil(0.10 * user_count)) as top_10pct_user_count,
        cast(sum(rating_count) filter (where activity_rank <= ceil(0.10 * user_count)) as double)
            / sum(rating_count) as top_10pct_rating_share,
        {{ gini_coefficient('rating_count', 'activity_rank') }} as gini_coefficient
    from with_user_count
)

select * from final
