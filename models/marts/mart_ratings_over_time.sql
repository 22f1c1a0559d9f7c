with

ratings as (
    select
        user_id,
        rating,
        rated_on
    from {{ ref('fct_ratings') }}
),

user_rating_stats as (
    select * from {{ ref('int_user_rating_stats') }}
),

-- group by year and month numbers, which DuckDB computes and hashes far faster than a
-- date_trunc('month', ...) timestamp (this is the one pass over the 100M ratings), and
-- count distinct users per month directly (74 groups for Netflix), no user-month table
monthly_ratings as (
    select
        make_date(year(rated_on), month(rated_on), 1) as rating_month,
        count(*) as rating_count,
        sum(rating) as rating_sum,
        count(distinct user_id) as active_user_count
    from ratings
    group by year(rated_on), month(rated_on)
),

monthly_new_users as (
    select
        make_date(year(first_rated_on), month(first_rated_on), 1) as rating_month,
        count(*) as new_user_count
    from user_rating_stats
    group by year(first_rated_on), month(first_rated_on)
),

-- every month from the first to the last rating, so that gaps show as zeros
month_spine as (
    select {{ month_series('min(rating_month)', 'max(rating_month)') }} as rating_month
    from monthly_ratings
),

final as (
    select
        month_spine.rating_month,
        coalesce(monthly_ratings.rating_count, 0) as rating_count,
        monthly_ratings.rating_sum / monthly_ratings.rating_count as mean_rating,
        coalesce(monthly_ratings.active_user_count, 0) as active_user_count,
        coalesce(monthly_new_users.new_user_count, 0) as new_user_count,
        cast(sum(coalesce(monthly_new_users.new_user_count, 0)) over (
            order by month_spine.rating_month
        ) as bigint) as cumulative_user_count,
        cast(sum(coalesce(monthly_ratings.rating_count, 0)) over (
            order by month_spine.rating_month
        ) as bigint) as cumulative_rating_count
    from month_spine
    left join monthly_ratings
        on month_spine.rating_month = monthly_ratings.rating_month
    left join monthly_new_users
        on month_spine.rating_month = monthly_new_users.rating_month
    order by month_spine.rating_month
)

select * from final
