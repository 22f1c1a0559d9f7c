with

predictions as (
    select * from {{ ref('model_predictions') }}
),

train as (
    select * from {{ ref('int_ratings_train') }}
),

user_train_counts as (
    select
        user_id,
        count(*) as train_rating_count
    from train
    group by user_id
),

bucketed as (
    select
        predictions.model_name,
        coalesce({{ log_bucket_floor('user_train_counts.train_rating_count') }}, 0) as activity_bucket_floor,
        coalesce({{ log_bucket_label('user_train_counts.train_rating_count') }}, '0') as activity_bucket,
        predictions.predicted_rating,
        predictions.rating,
        predictions.user_id,
        predictions.movie_id
    from predictions
    left join user_train_counts
        on predictions.user_id = user_train_counts.user_id
),

final as (
    select
        model_name,
        activity_bucket_floor,
        activity_bucket,
        count(distinct user_id) as user_count,
        count(*) as rating_count,
        -- in a fixed order: an unordered float sum can differ in the last digit between builds
        sqrt({{ ordered_aggregate('avg', 'power(predicted_rating - rating, 2)', 'user_id, movie_id') }}) as rmse,
        {{ ordered_aggregate('avg', 'abs(predicted_rating - rating)', 'user_id, movie_id') }} as mae
    from bucketed
    group by model_name, activity_bucket_floor, activity_bucket
)

select * from final
order by model_name, activity_bucket_floor
