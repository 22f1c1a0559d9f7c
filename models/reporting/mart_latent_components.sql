{#-
    How much of the variance of the serving model's movie factors each principal component
    explains (python_models/reporting/movie_map.py): a few strong components mean a few dominant
    directions of taste, a flat spectrum means many equally important ones.
-#}
with

movie_map as (
    select * from {{ ref('movie_map') }}
),

components as (
    select
        model_name,
        component,
        any_value(explained_variance_ratio) as explained_variance_ratio,
        count(*) filter (where is_fitted) as fitted_movie_count
    from movie_map
    group by model_name, component
),

final as (
    select
        model_name,
        component,
        explained_variance_ratio,
        sum(explained_variance_ratio) over (order by component) as cumulative_explained_variance_ratio,
        fitted_movie_count
    from components
)

select * from final
order by component
