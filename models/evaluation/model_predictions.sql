with

predictions as (
    {{ union_artifacts('prediction', ['model_name', 'user_id', 'movie_id', 'predicted_rating']) }}
),

test as (
    select * from {{ ref('int_ratings_test') }}
),

final as (
    select
        predictions.model_name,
        predictions.user_id,
        predictions.movie_id,
        predictions.predicted_rating,
        test.rating
    from predictions
    inner join test
        on predictions.user_id = test.user_id
        and predictions.movie_id = test.movie_id
)

select * from final
