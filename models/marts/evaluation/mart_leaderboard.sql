with

metrics as (
    select * from {{ ref('model_metrics') }}
),

runs as (
    select * from {{ ref('model_runs') }}
),

wide as (
    pivot (select model_name, metric, value from metrics)
    on metric in ('rmse', 'mae', 'precision', 'recall', 'ndcg', 'map', 'hit_rate', 'catalog_coverage', 'long_tail_share')
    using any_value(value)
),

final as (
    select
        wide.model_name,
        wide.rmse,
        wide.mae,
        wide.precision as precision_at_10,
        wide.recall as recall_at_10,
        wide.ndcg as ndcg_at_10,
        wide.map as map_at_10,
        wide.hit_rate as hit_rate_at_10,
        wide.catalog_coverage,
        wide.long_tail_share,
        runs.fit_seconds,
        case when wide.rmse is not null then rank() over (order by wide.rmse nulls last) end as rmse_rank,
        rank() over (order by wide.ndcg desc nulls last) as ndcg_rank
    from wide
    inner join runs
        on wide.model_name = runs.model_name
)

select * from final
order by rmse_rank nulls last, ndcg_rank
