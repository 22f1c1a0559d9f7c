with

metrics as (
    select * from {{ ref('model_metrics') }}
),

runs as (
    select * from {{ ref('model_runs') }}
),

-- 95% bootstrap intervals and the paired comparison with the bias baseline (model_metric_intervals)
-- (one row per model and metric: each max() below picks that one value)
intervals as (
    select
        model_name,
        {%- for metric in ['rmse', 'ndcg'] %}
        max(case when metric = '{{ metric }}' then ci_low end) as {{ metric }}_ci_low,
        max(case when metric = '{{ metric }}' then ci_high end) as {{ metric }}_ci_high,
        max(case when metric = '{{ metric }}' then is_better_than_baseline end) as {{ metric }}_better
        {{- ',' if not loop.last }}
        {%- endfor %}
    from metrics
    group by model_name
),

wide as (
    select
        model_name,
        {%- for metric in ['rmse', 'mae', 'precision', 'recall', 'ndcg', 'map', 'hit_rate', 'catalog_coverage',
                           'long_tail_share'] %}
        max(case when metric = '{{ metric }}' then value end) as {{ metric }}{{ ',' if not loop.last }}
        {%- endfor %}
    from metrics
    group by model_name
),

final as (
    select
        wide.model_name,
        wide.rmse,
        wide.mae,
        cast({{ var('top_k') }} as integer) as k,
        wide.precision as precision_at_k,
        wide.recall as recall_at_k,
        wide.ndcg as ndcg_at_k,
        wide.map as map_at_k,
        wide.hit_rate as hit_rate_at_k,
        wide.catalog_coverage,
        wide.long_tail_share,
        runs.fit_seconds,
        intervals.rmse_ci_low,
        intervals.rmse_ci_high,
        intervals.ndcg_ci_low as ndcg_at_k_ci_low,
        intervals.ndcg_ci_high as ndcg_at_k_ci_high,
        intervals.rmse_better as is_rmse_better_than_baseline,
        intervals.ndcg_better as is_ndcg_better_than_baseline,
        case when wide.rmse is not null then rank() over (order by wide.rmse nulls last) end as rmse_rank,
        rank() over (order by wide.ndcg desc nulls last) as ndcg_rank
    from wide
    inner join runs
        on wide.model_name = runs.model_name
    left join intervals
        on wide.model_name = intervals.model_name
)

select * from final
order by rmse_rank nulls last, ndcg_rank
