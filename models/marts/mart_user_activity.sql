with

users as (
    select * from {{ ref('dim_users') }}
),

buckets as (
    select
        activity_bucket_floor,
        any_value(activity_bucket) as activity_bucket,
        count(*) as user_count,
        cast(sum(rating_count) as bigint) as rating_count,
        sum(rating_count * mean_rating) / sum(rating_count) as mean_rating
    from users
    group by activity_bucket_floor
),

final as (
    select
        activity_bucket_floor,
        {{ log_bucket_ceiling('activity_bucket_floor') }} as activity_bucket_ceiling,
        activity_bucket,
        user_count,
        rating_count,
        {{ share_of_total('user_count') }} as user_share,
        {{ share_of_total('rating_count') }} as rating_share,
        cast(rating_count as double) / user_count as ratings_per_user,
        mean_rating
    from buckets
)

select * from final
