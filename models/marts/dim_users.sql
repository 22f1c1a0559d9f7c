with

user_rating_stats as (
    select * from {{ ref('int_user_rating_stats') }}
),

final as (
    select
        user_id,
        rating_count,
        mean_rating,
        first_rated_on,
        last_rated_on,
        {{ log_bucket_floor('rating_count') }} as activity_bucket_floor,
        {{ log_bucket_label('rating_count') }} as activity_bucket,
        row_number() over (order by rating_count desc, user_id) as activity_rank,
        cume_dist() over (order by rating_count) as activity_percentile
    from user_rating_stats
)

select * from final
