{#-
    The one row every serving model and the Python API read: which model serves, and the
    serving vars (a Python model or the API does not see var(), so they travel in this table).

    The model: var `serving_model` if it has rows in movie_factors; otherwise (it has not been
    fitted yet) a model with latent factors, lowest train RMSE first; otherwise the bias-only
    model with the lowest train RMSE. Ties by name. The choice is data-driven so that the
    serving tables always build, and `is_requested_model` says when a stand-in serves.
-#}
{%- set requested = var('serving_model') -%}
{#- on Spark the lists are always scored in SQL (spark__serving_engine) -#}
{%- set engine = 'sql' if target.type == 'spark' else var('recommendations_engine') -%}
{%- for name, minimum in [('recommendations_k', 1), ('similar_movies_k', 1),
                           ('recommendations_min_user_ratings', 0), ('similar_movies_min_ratings', 0)] -%}
    {%- set value = var(name) -%}
    {%- if value is not number or value != (value | int) or value < minimum or value > 100000 -%}
        {{ exceptions.raise_compiler_error(name ~ " must be a whole number >= " ~ minimum ~ ", got " ~ value) }}
    {%- endif -%}
{%- endfor -%}
{%- if engine not in ['sql', 'python', 'auto'] -%}
    {{ exceptions.raise_compiler_error("recommendations_engine must be sql, python or auto, got " ~ engine) }}
{%- endif -%}
{%- set max_sql_pairs = var('recommendations_sql_max_pairs') -%}
{%- if max_sql_pairs is not number or max_sql_pairs < 0 -%}
    {{ exceptions.raise_compiler_error("recommendations_sql_max_pairs must be a number >= 0, got " ~ max_sql_pairs) }}
{%- endif -%}
{%- if var('reason_min_rating') is not number -%}
    {{ exceptions.raise_compiler_error("reason_min_rating must be a number, got " ~ var('reason_min_rating')) }}
{%- endif -%}

with

movie_factors as (
    select * from {{ ref('movie_factors') }}
),

runs as (
    select * from {{ ref('model_runs') }}
),

ratings as (
    select rating from {{ ref('fct_ratings') }}
),

users as (
    select user_id from {{ ref('dim_users') }}
),

movies as (
    select movie_id from {{ ref('dim_movies') }}
),

fitted_models as (
    select
        model_name,
        count(*) as movie_count,
        count(factors) as factor_movie_count,
        cast(coalesce(max({{ array_length('factors') }}), 0) as bigint) as factor_count
    from movie_factors
    group by model_name
),

candidates as (
    select
        fitted_models.model_name,
        fitted_models.factor_count,
        fitted_models.factor_movie_count > 0 as has_factors,
        coalesce(runs.global_mean, 0) as global_mean,
        runs.hyperparameters,
        runs.train_rmse,
        fitted_models.model_name = {{ dbt.string_literal(requested) }} as is_requested_model
    from fitted_models
    left join runs
        on fitted_models.model_name = runs.model_name
),

chosen_model as (
    select *
    from candidates
    order by is_requested_model desc, has_factors desc, train_rmse asc nulls last, model_name
    limit 1
),

rating_scale as (
    select
        min(rating) as rating_min,
        max(rating) as rating_max
    from ratings
),

-- var recommendations_engine = auto: SQL while users x movies stays within
-- var recommendations_sql_max_pairs (the SQL engine's memory grows with the pairs), else python
catalog as (
    select
        (select count(*) from users) * (select count(*) from movies) as user_movie_pairs
),

engine as (
    select
        {%- if engine == 'auto' %}
        case
            when user_movie_pairs <= {{ max_sql_pairs }} then 'sql'
            else 'python'
        end as recommendations_engine
        {%- else %}
        {{ dbt.string_literal(engine) }} as recommendations_engine
        {%- endif %}
    from catalog
),

settings as (
    select
        {{ dbt.string_literal(requested) }} as requested_model_name,
        (select recommendations_engine from engine) as recommendations_engine,
        cast({{ var('recommendations_k') }} as integer) as recommendations_k,
        cast({{ var('recommendations_min_user_ratings') }} as integer) as recommendations_min_user_ratings,
        cast({{ var('similar_movies_k') }} as integer) as similar_movies_k,
        cast({{ var('similar_movies_min_ratings') }} as integer) as similar_movies_min_ratings,
        cast({{ var('reason_min_rating') }} as double) as reason_min_rating
),

final as (
    select
        chosen_model.model_name,
        settings.requested_model_name,
        coalesce(chosen_model.is_requested_model, false) as is_requested_model,
        coalesce(chosen_model.has_factors, false) as has_factors,
        coalesce(chosen_model.factor_count, 0) as factor_count,
        coalesce(chosen_model.global_mean, 0) as global_mean,
        chosen_model.hyperparameters,
        settings.recommendations_engine,
        settings.recommendations_k,
        settings.recommendations_min_user_ratings,
        settings.similar_movies_k,
        settings.similar_movies_min_ratings,
        settings.reason_min_rating,
        rating_scale.rating_min,
        rating_scale.rating_max
    from settings
    cross join rating_scale
    left join chosen_model
        on true
)

select * from final
