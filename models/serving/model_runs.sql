with

runs as (
    {{ union_artifacts('run', [
        'model_name', 'hyperparameters', 'fit_seconds', 'train_rmse', 'train_ratings', 'bias as global_mean',
    ]) }}
),

final as (
    select
        model_name,
        {{ as_json('hyperparameters') }} as hyperparameters,
        fit_seconds,
        train_rmse,
        train_ratings,
        global_mean
    from runs
)

select * from final
