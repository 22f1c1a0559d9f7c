{#-
    The damped movie-mean baseline (movierec.models.baselines.MovieMean), computed in SQL from
    the per-movie sums of the training ratings: b_i = sum(r - mu) / (n_i + damping), predicted
    rating clip(mu + b_i) (unknown movies: clip(mu)), ranking by b_i. The same artifact table
    as the Python fit models (macros/recommender_artifacts.sql); fit_seconds is null (the work is
    this node's SQL: see target/run_results.json).
-#}
{%- set damping = var('movie_mean_damping') | float %}

with

{{ mean_baseline_inputs() }},

movie_biases as (
    select
        by_movie.movie_id,
        by_movie.rating_count,
        by_movie.rating_sum,
        by_movie.rating_square_sum,
        (by_movie.rating_sum - by_movie.rating_count * overall.global_mean)
            / (by_movie.rating_count + {{ damping }}) as bias
    from by_movie
    cross join overall
),

movie_predictions as (
    select
        movie_biases.*,
        least(greatest(overall.global_mean + movie_biases.bias, overall.rating_min), overall.rating_max)
            as predicted_rating
    from movie_biases
    cross join overall
),

training_error as (
    select
        sqrt(
            sum(
                rating_count * predicted_rating * predicted_rating
                - 2 * predicted_rating * rating_sum
                + rating_square_sum
            ) / sum(rating_count)
        ) as train_rmse
    from movie_predictions
),

run_row as (
    {{ artifact_select({'record': "'run'", 'model_name': "'movie_mean'", 'bias': 'overall.global_mean',
                        'hyperparameters': "'{\"damping\": " ~ damping ~ "}'", 'train_rmse': 'training_error.train_rmse',
                        'train_ratings': 'overall.train_ratings'}) }}
    from overall
    cross join training_error
),

user_rows as (
    {{ artifact_select({'record': "'user'", 'model_name': "'movie_mean'", 'user_id': 'user_id', 'bias': '0'}) }}
    from by_user
),

movie_rows as (
    {{ artifact_select({'record': "'movie'", 'model_name': "'movie_mean'", 'movie_id': 'movie_id', 'bias': 'bias'}) }}
    from movie_biases
),

prediction_rows as (
    {{ artifact_select({
        'record': "'prediction'", 'model_name': "'movie_mean'", 'user_id': 'test.user_id', 'movie_id': 'test.movie_id',
        'predicted_rating': 'coalesce(movie_predictions.predicted_rating, '
            ~ 'least(greatest(overall.global_mean, overall.rating_min), overall.rating_max))'}) }}
    from test
    cross join overall
    left join movie_predictions
        on test.movie_id = movie_predictions.movie_id
),

movie_scores as (
    select
        movie_id,
        bias as score
    from movie_biases
),

{{ static_ranking_recommendations('movie_mean', 'movie_scores') }},

{{ artifact_union(['run_row', 'user_rows', 'movie_rows', 'prediction_rows', 'recommendation_rows']) }}

select * from artifacts
