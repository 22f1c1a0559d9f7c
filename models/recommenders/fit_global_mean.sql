{#-
    The global-mean baseline (movierec.models.baselines.GlobalMean), computed in SQL from the
    per-movie sums of the training ratings: every rating predicted as clip(mu); its ranking has
    no preference (every score 0, ties by the smaller movie id). The same artifact table as the
    Python fit models (macros/recommender_artifacts.sql); fit_seconds is null.
-#}

with

{{ mean_baseline_inputs() }},

prediction as (
    select
        *,
        least(greatest(global_mean, rating_min), rating_max) as predicted_rating
    from overall
),

run_row as (
    {{ artifact_select({
        'record': "'run'", 'model_name': "'global_mean'", 'bias': 'global_mean', 'hyperparameters': "'{}'",
        'train_rmse': 'sqrt((train_ratings * predicted_rating * predicted_rating - 2 * predicted_rating * rating_sum '
            ~ '+ rating_square_sum) / train_ratings)',
        'train_ratings': 'train_ratings'}) }}
    from prediction
),

user_rows as (
    {{ artifact_select({'record': "'user'", 'model_name': "'global_mean'", 'user_id': 'user_id', 'bias': '0'}) }}
    from by_user
),

movie_rows as (
    {{ artifact_select({'record': "'movie'", 'model_name': "'global_mean'", 'movie_id': 'movie_id', 'bias': '0'}) }}
    from by_movie
),

prediction_rows as (
    {{ artifact_select({'record': "'prediction'", 'model_name': "'global_mean'", 'user_id': 'test.user_id',
                        'movie_id': 'test.movie_id', 'predicted_rating': 'prediction.predicted_rating'}) }}
    from test
    cross join prediction
),

movie_scores as (
    select
        movie_id,
        0.0 as score
    from by_movie
),

{{ static_ranking_recommendations('global_mean', 'movie_scores') }},

{{ artifact_union(['run_row', 'user_rows', 'movie_rows', 'prediction_rows', 'recommendation_rows']) }}

select * from artifacts
