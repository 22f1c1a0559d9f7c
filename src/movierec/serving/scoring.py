"""The arithmetic of serving, in numpy: scores of every movie for one user, the reason for each
recommended movie, a new user folded in (by the model's own `fold_in_stored`), and the texts that
go with them. Top-k itself is `movierec.arrays.top_k` / `top_k_rows`, shared with the models."""

from __future__ import annotations

import numpy as np

from movierec.arrays import top_k, top_k_rows
from movierec.models.registry import factor_model_class
from movierec.serving.readers import ModelFactors

__all__ = ["fold_in_user", "pick_reasons", "popular_reason", "reason_text", "score_movies", "top_k", "top_k_rows"]


def score_movies(model: ModelFactors, user_bias: float, user_factors: np.ndarray | None) -> np.ndarray:
    """global_mean + b_u + b_i + p_u . q_i for every movie of the model (float64; the inner product in
    float32 as the FLOAT[k] arrays store it, like DuckDB's array_inner_product).

    One user's matrix-vector product goes through einsum, not BLAS: a multi-threaded BLAS spins up its
    threads for it, which costs more than the product (p95 6 ms instead of 0.16 ms for 17,770 x 50 on a
    busy 2-core machine)."""
    scores = (model.global_mean + float(user_bias)) + model.movie_bias
    if model.n_factors and user_factors is not None and len(user_factors):
        dots = np.einsum("ij,j->i", model.movie_factors, np.asarray(user_factors, dtype=np.float32))
        scores = scores + dots.astype(np.float64)
    return scores


def pick_reasons(model: ModelFactors, recommended: np.ndarray, liked: np.ndarray) -> np.ndarray:
    """For each recommended movie index, the position in `liked` (movie indices in id order) of the most
    similar liked movie by cosine of the factors, or -1 when no liked movie has a positive similarity
    (or the model has no factors). Equal similarity: the first, i.e. the smaller movie_id."""
    out = np.full(len(recommended), -1, dtype=np.int64)
    if model.n_factors == 0 or len(liked) == 0 or len(recommended) == 0:
        return out
    usable = np.flatnonzero(model.has_direction[liked])
    if len(usable) == 0:
        return out
    sims = model.unit[recommended] @ model.unit[liked[usable]].T
    best = sims.argmax(axis=1)
    best_sim = sims[np.arange(len(recommended)), best]
    ok = (best_sim > 0) & model.has_direction[recommended]
    out[ok] = usable[best[ok]]
    return out


def fold_in_user(model: ModelFactors, movie_index: np.ndarray, ratings: np.ndarray) -> tuple[float, np.ndarray]:
    """A new user's (b_u, p_u) against the model's fixed movie biases and factors: what the model's own
    user step would give this user. The model's class (found by its name, `movierec.models.registry`)
    does the math with the stored parameters (`FactorModel.fold_in_stored`): the ridge step of BiasedMF,
    the bias update of the bias baseline, the SVD projection, the iALS step. KeyError for a model name
    that no factor model class writes."""
    return factor_model_class(model.model_name).fold_in_stored(
        model.hyperparameters,
        model.global_mean,
        model.movie_bias,
        model.movie_factors,
        movie_index,
        ratings,
        has_user_bias=model.has_user_bias,
        gram=model.gram(),
    )


def reason_text(label: str, rating: float, rating_max: float | None) -> str:
    """'because you rated Heat (1995) 5/5', as user_recommendations writes it (macros/reason_text.sql)."""
    scale = "" if rating_max is None else f"/{_g(rating_max)}"
    return f"because you rated {label} {_g(rating)}{scale}"


def popular_reason(rating_count: int) -> str:
    return f"popular: rated by {int(rating_count):,} users"


def _g(value) -> str:
    return "?" if value is None else ("%g" % value)
