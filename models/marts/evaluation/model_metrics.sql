{%- set k = var('top_k', 10) %}

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

train as (
    select * from {{ ref('int_ratings_train') }}
),

movies as (
    select * from {{ ref('dim_movies') }}
),

split_name as (
    select any_value(split_strategy) as split
    from (select split_strategy from {{ ref('int_ratings_split') }} limit 1)
),

rating_metrics as (
    select
        model_name,
        'rmse' as metric,
        sqrt(avg(power(predicted_rating - rating, 2))) as value
    from predictions
    group by model_name

    union all

    select
        model_name,
        'mae' as metric,
        avg(abs(predicted_rating - rating)) as value
    from predictions
    group by model_name
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
        n as relevant_count,
        sum(1 / log2(n_rank + 1)) as idcg
    from range(1, {{ k }} + 1) as relevant_n(n)
    cross join range(1, {{ k }} + 1) as ranks(n_rank)
    where n_rank <= n
    group by n
),

hits as (
    select
        model_name,
        user_id,
        rank,
        is_relevant,
        sum(is_relevant::integer) over (
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
        sum(hits.is_relevant::integer) as hit_count,
        sum(case when hits.is_relevant then 1 / log2(hits.rank + 1) else 0 end) as dcg,
        sum(case when hits.is_relevant then hits.hits_so_far / hits.rank else 0 end) as precision_sum,
        any_value(relevant_counts.relevant_count) as relevant_count
    from hits
    inner join relevant_counts
        on hits.user_id = relevant_counts.user_id
    group by hits.model_name, hits.user_id
),

per_user_scored as (
    select
        per_user.*,
        per_user.hit_count / {{ k }} as precision_at_k,
        per_user.hit_count / per_user.relevant_count as recall_at_k,
        per_user.dcg / ideal_dcg.idcg as ndcg_at_k,
        per_user.precision_sum / least(per_user.relevant_count, {{ k }}) as average_precision,
        (per_user.hit_count > 0)::integer as is_hit
    from per_user
    inner join ideal_dcg
        on least(per_user.relevant_count, {{ k }}) = ideal_dcg.relevant_count
),

ranking_metrics as (
    unpivot (
        select
            model_name,
            avg(precision_at_k) as "precision",
            avg(recall_at_k) as recall,
            avg(ndcg_at_k) as ndcg,
            avg(average_precision) as map,
            avg(is_hit) as hit_rate
        from per_user_scored
        group by model_name
    )
    on "precision", recall, ndcg, map, hit_rate
    into name metric value value
),

catalog as (
    select count(distinct movie_id) as catalog_size
    from train
),

list_metrics as (
    select
        recommendations.model_name,
        'catalog_coverage' as metric,
        count(distinct recommendations.movie_id) / any_value(catalog.catalog_size) as value
    from recommendations
    cross join catalog
    where recommendations.rank <= {{ k }}
    group by recommendations.model_name

    union all

    select
        recommendations.model_name,
        'long_tail_share' as metric,
        avg((not movies.is_head)::integer) as value
    from recommendations
    inner join movies
        on recommendations.movie_id = movies.movie_id
    where recommendations.rank <= {{ k }}
    group by recommendations.model_name
),

final as (
    select model_name, split_name.split, metric, null::integer as k, value
    from rating_metrics cross join split_name

    union all

    select model_name, split_name.split, metric, {{ k }} as k, value
    from ranking_metrics cross join split_name

    union all

    select model_name, split_name.split, metric, {{ k }} as k, value
    from list_metrics cross join split_name
)

select * from final
