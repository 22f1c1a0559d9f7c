{%- set k = var('top_k') %}

with

predictions as (
    select * from {{ ref('model_predictions') }}
),

recommendations as (
    select * from {{ ref('model_recommendations_eval') }}
),

train as (
    select * from {{ ref('int_ratings_train') }}
),

movies as (
    select * from {{ ref('dim_movies') }}
),

user_metrics as (
    select * from {{ ref('model_user_metrics') }}
),

intervals as (
    {{ metric_intervals() }}
),

split_name as (
    select any_value(split_strategy) as split
    from (select split_strategy from {{ ref('int_ratings_split') }} limit 1)
),

-- In a fixed order, like the ranking metrics below (one row per model, user and movie).
rating_metrics as (
    select
        model_name,
        'rmse' as metric,
        sqrt({{ ordered_aggregate('avg', 'power(predicted_rating - rating, 2)', 'user_id, movie_id') }}) as value
    from predictions
    group by model_name

    union all

    select
        model_name,
        'mae' as metric,
        {{ ordered_aggregate('avg', 'abs(predicted_rating - rating)', 'user_id, movie_id') }} as value
    from predictions
    group by model_name
),

-- Averages in user order: a float sum depends on the order of its terms, and an unordered
-- aggregate's order depends on thread scheduling, so the same build could differ in the last digit.
ranking_metrics as (
    {%- for metric, column in [('precision', 'precision_at_k'), ('recall', 'recall_at_k'), ('ndcg', 'ndcg_at_k'),
                               ('map', 'average_precision'), ('hit_rate', 'is_hit')] %}
    select
        model_name,
        '{{ metric }}' as metric,
        {{ ordered_aggregate('avg', column, 'user_id') }} as value
    from user_metrics
    where ndcg_at_k is not null
    group by model_name
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}
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
        avg(cast(not movies.is_head as integer)) as value
    from recommendations
    inner join movies
        on recommendations.movie_id = movies.movie_id
    where recommendations.rank <= {{ k }}
    group by recommendations.model_name
),

final as (
    select
        rating_metrics.model_name,
        split_name.split,
        rating_metrics.metric,
        cast(null as integer) as k,
        rating_metrics.value
    from rating_metrics
    cross join split_name

    union all

    select
        ranking_metrics.model_name,
        split_name.split,
        ranking_metrics.metric,
        {{ k }} as k,
        ranking_metrics.value
    from ranking_metrics
    cross join split_name

    union all

    select
        list_metrics.model_name,
        split_name.split,
        list_metrics.metric,
        {{ k }} as k,
        list_metrics.value
    from list_metrics
    cross join split_name
),

-- The 95% bootstrap interval over test users, the test set's size, and whether the model is
-- significantly better than the bias baseline (paired bootstrap over users): model_metric_intervals.
with_intervals as (
    select
        final.*,
        intervals.ci_low,
        intervals.ci_high,
        intervals.test_ratings,
        intervals.test_users,
        intervals.baseline_model,
        intervals.difference_ci_low,
        intervals.difference_ci_high,
        intervals.is_better_than_baseline
    from final
    left join intervals
        on final.model_name = intervals.model_name
        and final.metric = intervals.metric
)

select * from with_intervals
