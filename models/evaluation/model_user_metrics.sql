{%- set k = var('top_k') %}
-- Per-user parts of every metric: what model_metrics averages and what the bootstrap over test
-- users (model_metric_intervals) resamples.

with

predictions as (
    select * from {{ ref('model_predictions') }}
),

recommendations as (
    select * from {{ ref('model_recommendations_eval') }}
),

test as (
    select * from {{ ref('int_ratings_test') }}
),

-- Float sums in a fixed order (by movie, by rank): an unordered sum can differ in its last digit
-- between builds, as the order of int_ratings_test's rows is not fixed.
rating_errors as (
    select
        model_name,
        user_id,
        count(*) as rating_count,
        {{ ordered_aggregate('sum', 'power(predicted_rating - rating, 2)', 'movie_id') }} as squared_error_sum,
        {{ ordered_aggregate('sum', 'abs(predicted_rating - rating)', 'movie_id') }} as absolute_error_sum
    from predictions
    group by model_name, user_id
),

relevant_counts as (
    select
        user_id,
        count(*) as relevant_count
    from test
    group by user_id
),

-- The ideal DCG when a user has n relevant movies: all of them first, up to k.
ideal_dcg as (
    select
        relevant_n.n as relevant_count,
        {{ ordered_aggregate('sum', '1 / log2(ranks.n_rank + 1)', 'ranks.n_rank') }} as idcg
    from {{ integer_range(1, k, 'relevant_n', 'n') }}
    cross join {{ integer_range(1, k, 'ranks', 'n_rank') }}
    where ranks.n_rank <= relevant_n.n
    group by relevant_n.n
),

hits as (
    select
        model_name,
        user_id,
        rank,
        is_relevant,
        sum(cast(is_relevant as integer)) over (
            partition by model_name, user_id order by rank
            rows between unbounded preceding and current row
        ) as hits_so_far
    from recommendations
    where rank <= {{ k }}
),

per_user as (
    select
        hits.model_name,
        hits.user_id,
        sum(cast(hits.is_relevant as integer)) as hit_count,
        {{ ordered_aggregate(
            'sum', 'case when hits.is_relevant then 1 / log2(hits.rank + 1) else 0 end', 'hits.rank'
        ) }} as dcg,
        {{ ordered_aggregate(
            'sum', 'case when hits.is_relevant then hits.hits_so_far / hits.rank else 0 end', 'hits.rank'
        ) }} as precision_sum,
        any_value(relevant_counts.relevant_count) as relevant_count
    from hits
    inner join relevant_counts
        on hits.user_id = relevant_counts.user_id
    group by hits.model_name, hits.user_id
),

per_user_scored as (
    select
        per_user.model_name,
        per_user.user_id,
        per_user.hit_count / {{ k }} as precision_at_k,
        per_user.hit_count / per_user.relevant_count as recall_at_k,
        per_user.dcg / ideal_dcg.idcg as ndcg_at_k,
        per_user.precision_sum / least(per_user.relevant_count, {{ k }}) as average_precision,
        cast(per_user.hit_count > 0 as integer) as is_hit
    from per_user
    inner join ideal_dcg
        on least(per_user.relevant_count, {{ k }}) = ideal_dcg.relevant_count
),

final as (
    select
        coalesce(rating_errors.model_name, per_user_scored.model_name) as model_name,
        coalesce(rating_errors.user_id, per_user_scored.user_id) as user_id,
        rating_errors.rating_count,
        rating_errors.squared_error_sum,
        rating_errors.absolute_error_sum,
        per_user_scored.precision_at_k,
        per_user_scored.recall_at_k,
        per_user_scored.ndcg_at_k,
        per_user_scored.average_precision,
        per_user_scored.is_hit
    from rating_errors
    full outer join per_user_scored
        on rating_errors.model_name = per_user_scored.model_name
        and rating_errors.user_id = per_user_scored.user_id
)

select * from final
