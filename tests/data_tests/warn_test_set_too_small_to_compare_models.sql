{{ config(severity='warn') }}
-- Warns (does not fail) when the test set is too small to tell the models apart: fewer test
-- users than var `min_test_users`, or no model whose paired 95% bootstrap interval against the
-- baseline excludes 0 (every difference could be chance). One row per metric concerned; read the
-- intervals in model_metrics before ranking models by it.

with

intervals as (
    select * from {{ ref('model_metric_intervals') }}
    where metric in ('rmse', 'ndcg')
),

per_metric as (
    select
        metric,
        min(test_users) as test_users,
        count(*) filter (where difference_ci_low is not null) as compared_model_count,
        count(*) filter (where difference_ci_low > 0 or difference_ci_high < 0) as distinguishable_model_count
    from intervals
    group by metric
),

too_small as (
    select
        metric,
        test_users,
        compared_model_count,
        distinguishable_model_count,
        case
            when test_users < {{ var('min_test_users') }}
                then 'only ' || test_users || ' test users (min_test_users = {{ var('min_test_users') }})'
            else 'no model differs from the baseline beyond chance (paired 95% bootstrap)'
        end as problem
    from per_metric
    where test_users < {{ var('min_test_users') }}
        or (compared_model_count > 0 and distinguishable_model_count = 0)
)

select * from too_small
