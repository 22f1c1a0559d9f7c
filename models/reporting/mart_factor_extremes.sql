{#-
    What the strongest directions of the latent space mean: for each of the first var
    `factor_extremes_components` (default 3) principal components of the serving model's movie
    factors (python_models/reporting/movie_map.py), the var `factor_extremes_n` (default 10)
    well-supported movies with the highest and the lowest scores.
-#}
{%- set n = var('factor_extremes_n') | int -%}

with

{{ component_ends(n) }},

movies as (
    select * from {{ ref('dim_movies') }}
),

final as (
    select
        ends.model_name,
        ends.component,
        ends.explained_variance_ratio,
        ends.pole,
        cast(ends.rank as integer) as rank,
        ends.movie_id,
        movies.label,
        movies.title,
        movies.release_year,
        movies.rating_count,
        movies.mean_rating,
        ends.score
    from ends
    left join movies
        on ends.movie_id = movies.movie_id
)

select * from final
order by component, pole, rank
