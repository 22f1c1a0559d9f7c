{#-
    The popularity ranking baseline (movierec.models.popularity.Popularity), computed in SQL:
    movies by their number of training ratings, ties by the smaller movie id. It ranks but does
    not predict ratings, so its artifacts are the run row and the evaluation users' top-k lists
    (macros/recommender_artifacts.sql); fit_seconds is null.
-#}

with

by_movie as (
    select * from {{ ref('int_ratings_train_by_movie') }}
),

run_row as (
    {{ artifact_select({'record': "'run'", 'model_name': "'popularity'", 'hyperparameters': "'{}'",
                        'train_ratings': 'sum(rating_count)'}) }}
    from by_movie
),

movie_scores as (
    select
        movie_id,
        rating_count as score
    from by_movie
),

{{ static_ranking_recommendations('popularity', 'movie_scores') }},

{{ artifact_union(['run_row', 'recommendation_rows']) }}

select * from artifacts
