"""The latent space in two dimensions: principal components of a factor model's movie factors
(var `latent_space_model`, default biased_mf, whose factors describe taste; else the serving model).

Built on numpy's SVD. A factor model's k factors are only defined up to a rotation (any
orthogonal mix of them predicts the same ratings), so the raw factor 1 and factor 2 are not the
"strongest" directions. The principal components of the movie factor matrix are: component 1
is the direction along which movies differ most, component 2 the next one orthogonal to it, and
so on. The first two give the map (mart_movie_map), the movies at both ends of each component
say what it means (mart_factor_extremes).
"""

import numpy as np
import pyarrow as pa

SCHEMA = pa.schema(
    [
        ("model_name", pa.string()),
        ("movie_id", pa.int32()),
        ("component", pa.int32()),
        ("score", pa.float64()),
        ("explained_variance_ratio", pa.float64()),
        ("is_fitted", pa.bool_()),
    ]
)


def principal_components(factors: np.ndarray, fit_rows: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores of every row of `factors` (n, k) on the first `n_components` principal axes, and the
    share of the variance each axis explains.

    The axes are fitted on the rows where `fit_rows` is true (centred by their mean) and every row
    is projected on them. Each axis points so that its most extreme fitted row scores positive,
    which makes the signs deterministic. Fewer than `n_components` axes when the fitted rows span
    fewer dimensions.
    """
    fitted = factors[fit_rows]
    mean = fitted.mean(axis=0)
    _, singular_values, axes = np.linalg.svd(fitted - mean, full_matrices=False)
    variance = singular_values**2
    n = int(min(n_components, int((variance > 1e-12 * variance.sum()).sum())))
    axes = axes[:n]
    scores = (factors - mean) @ axes.T
    fitted_scores = scores[fit_rows]
    extreme = fitted_scores[np.argmax(np.abs(fitted_scores), axis=0), np.arange(n)]
    scores = scores * np.where(extreme < 0, -1.0, 1.0)
    return scores, variance[:n] / variance.sum()


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    n_components = int(meta["components"])
    min_ratings = int(meta["min_ratings"])

    # The taste factors of a rating model (var latent_space_model) by default; the serving model
    # when that one was not fitted. Implicit models (ials) mostly encode popularity.
    serving_model = dbt.ref("serving_config").project("model_name").fetchone()[0]
    movie_factors = dbt.ref("movie_factors")
    ratings_per_movie = dbt.ref("dim_movies").project("movie_id, rating_count")
    for model_name in (meta.get("model"), serving_model):
        factors = (
            movie_factors.filter(f"model_name = '{model_name}' and factors is not null")
            .join(ratings_per_movie, "movie_id")
            .project("movie_id, rating_count, factors")
            .order("movie_id")
            .to_arrow_table()
        )
        if factors.num_rows:
            break
    else:  # no model with factors (a bias-only stand-in serves)
        return SCHEMA.empty_table()

    movie_ids = factors.column("movie_id").to_numpy()
    rating_counts = factors.column("rating_count").to_numpy()
    matrix = np.asarray(factors.column("factors").combine_chunks().flatten(), dtype=np.float64)
    matrix = matrix.reshape(factors.num_rows, -1)
    nonzero = np.abs(matrix).sum(axis=1) > 0  # a movie the model never saw has no direction
    movie_ids, rating_counts, matrix = movie_ids[nonzero], rating_counts[nonzero], matrix[nonzero]
    fit_rows = rating_counts >= min_ratings
    if fit_rows.sum() <= n_components:  # too few well-supported movies: fit on all of them
        fit_rows = np.ones(len(movie_ids), dtype=bool)
    if len(movie_ids) <= 1:
        return SCHEMA.empty_table()

    scores, explained = principal_components(matrix, fit_rows, n_components)
    n_movies, n = scores.shape
    return pa.table(
        {
            "model_name": pa.array([model_name] * (n_movies * n), pa.string()),
            "movie_id": pa.array(np.repeat(movie_ids, n), pa.int32()),
            "component": pa.array(np.tile(np.arange(1, n + 1), n_movies), pa.int32()),
            "score": pa.array(scores.reshape(-1), pa.float64()),
            "explained_variance_ratio": pa.array(np.tile(explained, n_movies), pa.float64()),
            "is_fitted": pa.array(np.repeat(fit_rows, n), pa.bool_()),
        },
        schema=SCHEMA,
    )
