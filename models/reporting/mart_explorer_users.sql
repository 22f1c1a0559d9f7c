{#-
    The users the recommendations explorer offers: up to var `explorer_users_per_bucket`
    (default 10) evaluation users per activity bucket (1, 2-3, 4-7, ... ratings), picked by a
    fixed hash of the user id, so that light and heavy users are both there and the report stays
    small at any data size. Evaluation users (model_recommendations_eval) have a top-k list from
    every model as well as their served recommendations.
-#}
{%- set per_bucket = var('explorer_users_per_bucket') | int -%}

with

users as (
    select * from {{ ref('dim_users') }}
),

evaluation_users as (
    select distinct user_id from {{ ref('model_recommendations_eval') }}
),

recommendations as (
    select * from {{ ref('user_recommendations') }}
),

served as (
    select
        user_id,
        any_value(model_name) as served_by,
        bool_or(is_fallback) as is_fallback
    from recommendations
    group by user_id
),

picked as (
    select
        users.*,
        row_number() over (
            partition by users.activity_bucket_floor
            order by (users.user_id * 2654435761) % 4294967296, users.user_id
        ) as pick_order
    from users
    inner join evaluation_users
        on users.user_id = evaluation_users.user_id
    qualify pick_order <= {{ per_bucket }}
),

final as (
    select
        picked.user_id,
        'user ' || picked.user_id || ': ' || picked.rating_count || ' ratings, mean '
            || printf('%.2f', picked.mean_rating) as label,
        picked.rating_count,
        picked.mean_rating,
        picked.activity_bucket_floor,
        picked.activity_bucket,
        picked.first_rated_on,
        picked.last_rated_on,
        served.served_by,
        coalesce(served.is_fallback, true) as is_fallback
    from picked
    left join served
        on picked.user_id = served.user_id
)

select * from final
order by rating_count desc, user_id
