"""Taste: the latent factor model behind the ratings and their quantization to 1..5 stars."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from movierec.generate.genres import _MOVIE_INDIVIDUAL, _USER_INDIVIDUAL, GenrePlan, genre_directions
from movierec.generate.shapes import _S_THRESHOLDS, N_FACTORS, RATING_SHARES, _rng


@dataclass(frozen=True)
class _TasteModel:
    """score = user bias + movie bias + user factors . movie factors + noise."""

    user_bias: np.ndarray  # (n_users,) float32
    movie_bias: np.ndarray  # (n_movies,) float32
    user_factors: np.ndarray  # (k, n_users) float32
    movie_factors: np.ndarray  # (k, n_movies) float32
    noise_sd: float
    thresholds: np.ndarray = field(default_factory=lambda: np.zeros(4))  # score cut points for 1|2|3|4|5


# Scale of the score terms (in stars, before quantization). Tuned so that on the demo
# probe a biased matrix factorization beats the bias-only baseline by about as much as on
# Netflix (roughly 8-10% lower RMSE).
_USER_BIAS_SD = 0.40
_MOVIE_BIAS_SD = 0.40
_POPULARITY_BIAS = 0.15  # popular movies are rated a bit higher
_INTERACTION_SD = 0.60  # sd of user factors . movie factors
_NOISE_SD = 0.75


def taste_model(
    n_users: int, weights: np.ndarray, genres: GenrePlan, user_prefs: np.ndarray, rng: np.random.Generator
) -> _TasteModel:
    """Draw the biases and factors (thresholds are fitted later on the actual pairs).

    A movie's factors are the direction of its genres plus individual variation; a user's are
    their genre preferences (liked genres positive, disliked ones negative) times the genre
    directions plus individual variation. Both are scaled so that user factors . movie factors
    has the standard deviation _INTERACTION_SD over random pairs. Popular movies get somewhat
    higher biases, as in Netflix."""
    n_movies = weights.size
    log_pop = np.log(weights)
    pop_z = (log_pop - log_pop.mean()) / (log_pop.std() + 1e-12)
    user_bias = _USER_BIAS_SD * rng.standard_normal(n_users)
    movie_bias = _MOVIE_BIAS_SD * rng.standard_normal(n_movies) + _POPULARITY_BIAS * pop_z
    directions = genre_directions(N_FACTORS)
    movie_dir = np.zeros((n_movies, N_FACTORS))
    for movie, movie_genres in enumerate(genres.movie_genres):
        movie_dir[movie] = directions[list(movie_genres)].sum(axis=0)
    movie_dir /= np.linalg.norm(movie_dir, axis=1, keepdims=True)
    scale = 1.0 / math.sqrt(N_FACTORS)
    movie_factors = movie_dir + _MOVIE_INDIVIDUAL * scale * rng.standard_normal((n_movies, N_FACTORS))
    user_factors = user_prefs.astype(np.float64) @ directions
    user_factors += _USER_INDIVIDUAL * scale * rng.standard_normal((n_users, N_FACTORS))
    # Scale the interaction to _INTERACTION_SD over (up to) 200k random pairs.
    pairs = min(200_000, n_users * n_movies)
    su, sm = rng.integers(0, n_users, pairs), rng.integers(0, n_movies, pairs)
    sd = float(np.einsum("ij,ij->i", user_factors[su], movie_factors[sm]).std())
    factor_scale = math.sqrt(_INTERACTION_SD / max(sd, 1e-12))
    return _TasteModel(
        user_bias=user_bias.astype(np.float32),
        movie_bias=movie_bias.astype(np.float32),
        user_factors=np.ascontiguousarray((factor_scale * user_factors).T, dtype=np.float32),
        movie_factors=np.ascontiguousarray((factor_scale * movie_factors).T, dtype=np.float32),
        noise_sd=_NOISE_SD,
    )


def _scores(
    model: _TasteModel,
    users: np.ndarray,
    user_runs: tuple[slice, np.ndarray] | None,
    movies: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Latent scores for rating rows. With `user_runs` = (user slice, run lengths) the user
    terms are expanded with np.repeat (rows grouped by user), otherwise gathered by `users`."""

    def user_term(values: np.ndarray) -> np.ndarray:
        if user_runs is None:
            return values[users]
        sl, runs = user_runs
        return np.repeat(values[sl], runs)

    s = user_term(model.user_bias)
    s += model.movie_bias[movies]
    for k in range(model.user_factors.shape[0]):
        s += user_term(model.user_factors[k]) * model.movie_factors[k][movies]
    s += np.float32(model.noise_sd) * rng.standard_normal(s.size, dtype=np.float32)
    return s


def _quantize(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Stars 1..5 from scores and the four cut points."""
    stars = np.ones(scores.size, dtype=np.int8)
    for t in thresholds.astype(np.float32):
        stars += scores > t
    return stars


def _fit_thresholds(model: _TasteModel, movies: np.ndarray, row_offsets: np.ndarray, seed: int) -> np.ndarray:
    """Cut points at the quantiles of the scores of (up to) 2M evenly spaced rating rows,
    so that the star shares come out as Netflix's."""
    rng = _rng(seed, _S_THRESHOLDS)
    n = movies.size
    rows = np.arange(0, n, max(1, n // 2_000_000), dtype=np.int64)
    users = np.searchsorted(row_offsets, rows, side="right") - 1
    scores = _scores(model, users, None, movies[rows].astype(np.int64), rng)
    return np.quantile(scores, np.cumsum(RATING_SHARES)[:4])
