-- Which model predicts ratings best, and which makes the best top-10 lists?
-- One row per model: its held-out RMSE and how much better than the bias baseline it is, and
-- its ranking figures at k = 10 against popularity. Rating models first (by RMSE), then the
-- ranking-only ones (by nDCG).

with

leaderboard as (
    select * from {{ ref('mart_leaderboard') }}
),

baselines as (
    select
        max(rmse) filter (where model_name = 'bias_baseline') as baseline_rmse,
        max(ndcg_at_k) filter (where model_name = 'popularity') as popularity_ndcg
    from leaderboard
),

compared as (
    select
        leaderboard.model_name,
        round(leaderboard.rmse, 4) as rmse,
        round(1 - leaderboard.rmse / baselines.baseline_rmse, 3) as rmse_gain_over_bias_baseline,
        leaderboard.rmse_rank,
        round(leaderboard.ndcg_at_k, 4) as ndcg_at_k,
        round(leaderboard.ndcg_at_k / nullif(baselines.popularity_ndcg, 0), 2) as ndcg_vs_popularity,
        round(leaderboard.hit_rate_at_k, 3) as hit_rate_at_k,
        round(leaderboard.catalog_coverage, 3) as catalog_coverage,
        leaderboard.ndcg_rank,
        round(leaderboard.fit_seconds, 1) as fit_seconds
    from leaderboard
    cross join baselines
    order by leaderboard.rmse_rank nulls last, leaderboard.ndcg_rank
)

select * from compared
{#- DuckDB only: `make sql` reads these on the DuckDB warehouse (issue 15: not on the Spark target) -#}
{{ config(enabled=target.type != 'spark') }}
