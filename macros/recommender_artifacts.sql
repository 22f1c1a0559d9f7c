{#-
    SQL counterparts of movierec.models.export for the recommenders computed in SQL
    (models/recommenders/: global_mean, movie_mean, popularity). They return the same
    artifact table as a dbt Python fit model, column for column, so the evaluation marts
    cannot tell them apart (tests/integration pins the equality with the Python models).
-#}

{% macro artifact_columns() %}
    {{- return(['record', 'model_name', 'user_id', 'movie_id', 'bias', 'factors', 'predicted_rating', 'rank',
                'score', 'hyperparameters', 'fit_seconds', 'train_rmse', 'train_ratings']) -}}
{% endmacro %}

{#- One select list of the artifact table: `values` maps column names to SQL expressions; the rest are typed nulls. -#}
{% macro artifact_select(values) %}
    {%- set types = {
        'record': 'varchar', 'model_name': 'varchar', 'user_id': 'integer', 'movie_id': 'integer',
        'bias': 'double', 'factors': 'float[' ~ (var('factors') | int) ~ ']', 'predicted_rating': 'double',
        'rank': 'integer', 'score': 'double', 'hyperparameters': 'varchar', 'fit_seconds': 'double',
        'train_rmse': 'double', 'train_ratings': 'bigint'} -%}
    select
    {%- for column in artifact_columns() %}
        cast({{ values.get(column, 'null') }} as {{ types[column] }}) as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{% endmacro %}

{#-
    The evaluation users, as movierec.models.export.evaluation_users picks them: test users the
    training data knows, at most var('eval_max_users') of them, the first by the fixed hash
    (user_id * 2654435761) mod 2^32 (ties by id). With their number of training ratings.
-#}
{% macro evaluation_users() %}
    {%- set max_users = var('eval_max_users') %}
    select
        test_users.user_id,
        known_users.rating_count as seen_count
    from (select distinct user_id from {{ ref('int_ratings_test') }}) as test_users
    inner join {{ ref('int_ratings_train_by_user') }} as known_users
        on test_users.user_id = known_users.user_id
    {%- if max_users is not none and max_users | string not in ('', 'None') %}
    qualify row_number() over (
        order by (test_users.user_id::ubigint * 2654435761) % 4294967296, test_users.user_id
    ) <= {{ max_users | int }}
    {%- endif %}
{% endmacro %}

{#-
    Top-k lists of a ranking that is the same for every user (`scores_cte`: movie_id, score),
    for the evaluation users: the best movies the user did not rate in training, ties by the
    smaller movie id, ranks 1..k. Only a user's first (ratings seen + k) movies can qualify,
    so no user x movie product is formed. Emits CTEs ending in `recommendation_rows`.
-#}
{% macro static_ranking_recommendations(model_name, scores_cte) %}
    {%- set k = var('top_k') | int %}
ranked_movies as (
    select
        movie_id,
        score,
        row_number() over (order by score desc, movie_id) as movie_rank
    from {{ scores_cte }}
),

evaluation_users as (
    {{ evaluation_users() }}
),

seen_by_evaluation_users as (
    select
        train.user_id,
        train.movie_id
    from {{ ref('int_ratings_train') }} as train
    semi join evaluation_users
        on train.user_id = evaluation_users.user_id
),

candidates as (
    select
        evaluation_users.user_id,
        ranked_movies.movie_id,
        ranked_movies.score,
        ranked_movies.movie_rank
    from evaluation_users
    inner join ranked_movies
        on ranked_movies.movie_rank <= evaluation_users.seen_count + {{ k }}
),

unseen_ranked as (
    select
        candidates.user_id,
        candidates.movie_id,
        candidates.score,
        row_number() over (partition by candidates.user_id order by candidates.movie_rank) as rank
    from candidates
    anti join seen_by_evaluation_users
        on candidates.user_id = seen_by_evaluation_users.user_id
        and candidates.movie_id = seen_by_evaluation_users.movie_id
    qualify rank <= {{ k }}
),

recommendation_rows as (
    {{ artifact_select({'record': "'recommendation'", 'model_name': "'" ~ model_name ~ "'", 'user_id': 'user_id',
                        'movie_id': 'movie_id', 'rank': 'rank', 'score': 'score'}) }}
    from unseen_ranked
)
{%- endmacro %}

{#-
    The import CTEs of the mean baselines computed in SQL (fit_global_mean, fit_movie_mean):
    `by_movie` and `by_user` (the training ratings' sums per movie and per user), `test`, and
    `overall`: the global mean, the training rating count, sum and sum of squares, and the range.
-#}
{% macro mean_baseline_inputs() %}
by_movie as (
    select * from {{ ref('int_ratings_train_by_movie') }}
),

by_user as (
    select * from {{ ref('int_ratings_train_by_user') }}
),

test as (
    select * from {{ ref('int_ratings_test') }}
),

overall as (
    select
        sum(rating_sum) / sum(rating_count) as global_mean,
        sum(rating_count) as train_ratings,
        sum(rating_sum) as rating_sum,
        sum(rating_square_sum) as rating_square_sum,
        min(min_rating) as rating_min,
        max(max_rating) as rating_max
    from by_movie
)
{%- endmacro %}

{#- The `artifacts` CTE of a recommender computed in SQL: the union of its CTEs of artifact rows, in order. -#}
{% macro artifact_union(ctes) %}
artifacts as (
    {%- for cte in ctes %}
    select * from {{ cte }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)
{%- endmacro %}
