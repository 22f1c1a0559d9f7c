{#-
    What the strongest directions of the latent space mean: for each of the first var
    `factor_extremes_components` (default 3) principal components of the serving model's movie
    factors (python_models/reporting/movie_map.py), the var `factor_extremes_n` (default 10)
    well-supported movies with the highest and the lowest scores.
-#}
{%- set n = var('factor_extremes_n') | int -%}
{%- set components = var('factor_extremes_components') | int -%}

with

movie_map as (
    select * from {{ ref('movie_map') }}
    where is_fitted
        and component <= {{ components }}
),

movies as (
    select * from {{ ref('dim_movies') }}
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
