{#-
    For every movie with latent factors in the serving model (serving_config), the k most
    similar movies (k = var `similar_movies_k`) by cosine similarity of their factors, q_i . q_j
    / (|q_i| |q_j|). Only movies with at least var `similar_movies_min_ratings` ratings are
    suggested (minimum support: a rarely rated movie's factors are mostly regularization noise,
    and cosine ignores length, so without the filter obscure titles would crowd the lists);
    any movie with factors gets a list. Equal similarity: smaller movie_id first. Movies with
    zero factors have no direction and take no part. Empty when the serving model has no
    factors (a bias-only stand-in: see serving_config).

    var `recommendations_engine`: `sql` compares every pair here; `python` reads the lists from
    python_models/serving/batch_similar_movies.py (one BLAS product per block of movies).
-#}
{%- set engine = serving_engine('batch_similar_movies') -%}
{%- set k = var('similar_movies_k') | int -%}

with

config as (
    select * from {{ ref('serving_config') }}
),
{%- if engine == 'python' %}

ranked as (
    select
        model_name,
        movie_id,
        rank,
        similar_movie_id,
        similarity
    from {{ ref('batch_similar_movies') }}
),
{%- else %}

movies as (
    select * from {{ ref('dim_movies') }}
),

movie_factors as (
    select
        movie_factors.movie_id,
        movie_factors.factors,
        {{ dot_product('movie_factors.factors', 'movie_factors.factors') }} as squared_norm
    from {{ ref('movie_factors') }} as movie_factors
    inner join config
        on movie_factors.model_name = config.model_name
    where {{ dot_product('movie_factors.factors', 'movie_factors.factors') }} > 0
),

candidates as (
    select movie_factors.*
    from movie_factors
    inner join movies
        on movie_factors.movie_id = movies.movie_id
    inner join config
        on movies.rating_count >= config.similar_movies_min_ratings
),

pairs as (
    select
        movie_factors.movie_id,
        candidates.movie_id as similar_movie_id,
        {{ cosine_similarity(
            'movie_factors.factors', 'candidates.factors', 'movie_factors.squared_norm', 'candidates.squared_norm'
        ) }} as similarity
    from movie_factors
    inner join candidates
        on movie_factors.movie_id != candidates.movie_id
),

-- the k most similar per movie (equal similarity: the smaller similar_movie_id)
picked as (
    {{ top_k_per_group('pairs', 'movie_id', 'similar_movie_id', 'similarity', k) }}
),

ranked as (
    select
        config.model_name,
        picked.movie_id,
        row_number() over (
            partition by picked.movie_id order by picked.similarity desc, picked.similar_movie_id
        ) as rank,
        picked.similar_movie_id,
        picked.similarity
    from picked
    cross join config
),
{%- endif %}

final as (
    select
        model_name,
        movie_id,
        cast(rank as integer) as rank,
        similar_movie_id,
        cast(similarity as double) as similarity
    from ranked
)

select * from final
order by movie_id, rank
