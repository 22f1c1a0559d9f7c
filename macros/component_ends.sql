{#-
    The import and ranking CTEs both latent-space marts start from (mart_factor_extremes,
    mart_component_genres): `movie_map`, the fitted movies on the first var
    `factor_extremes_components` principal components (python_models/reporting/movie_map.py);
    `ranked`; and `ends`, the `n` movies with the highest and the `n` with the lowest score on
    each component (ties by the smaller movie id): one row per component, pole ('high' or 'low')
    and rank, with model_name, explained_variance_ratio, movie_id and score.
-#}
{% macro component_ends(n) %}
    {%- set components = var('factor_extremes_components') | int %}
movie_map as (
    select * from {{ ref('movie_map') }}
    where is_fitted
        and component <= {{ components }}
),

ranked as (
    select
        model_name,
        component,
        explained_variance_ratio,
        movie_id,
        score,
        row_number() over (partition by component order by score desc, movie_id) as high_rank,
        row_number() over (partition by component order by score asc, movie_id) as low_rank
    from movie_map
),

ends as (
    select
        model_name,
        component,
        explained_variance_ratio,
        'high' as pole,
        high_rank as rank,
        movie_id,
        score
    from ranked
    where high_rank <= {{ n }}

    union all

    select
        model_name,
        component,
        explained_variance_ratio,
        'low' as pole,
        low_rank as rank,
        movie_id,
        score
    from ranked
    where low_rank <= {{ n }}
)
{%- endmacro %}
