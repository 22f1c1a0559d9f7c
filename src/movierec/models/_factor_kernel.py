"""A factor model's predictions for (user, movie) index pairs as one compiled loop (numba).

    prediction = mu + b_u + b_i + p_u . q_i      (unclipped; an unknown index, -1, adds nothing)

`FactorModel._predict_index` gathered every pair's two factor rows with numpy fancy indexing and
summed their products with `einsum`: two copies of (pairs x k) floats per chunk. Bayesian MF's
training RMSE predicts all 99M training ratings with its 50 stacked columns that way, about 45 s at
the full size. Here each pair reads its two rows in place, one float64 dot product. One thread,
without Python's global lock (`nogil`); compiled by `make setup`'s warm-up and cached on disk.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def predict_into(mu, user_bias, movie_bias, user_factors, movie_factors, u, i, out) -> None:
    """out[j] = mu + user_bias[u[j]] + movie_bias[i[j]] + user_factors[u[j]] . movie_factors[i[j]]
    in float64; a bias array may be empty (the model has none); a part whose index is -1 is left out."""
    has_user_bias = user_bias.shape[0] > 0
    has_movie_bias = movie_bias.shape[0] > 0
    k = movie_factors.shape[1]
    for j in range(u.shape[0]):
        a = u[j]
        b = i[j]
        s = mu
        if a >= 0 and has_user_bias:
            s += user_bias[a]
        if b >= 0 and has_movie_bias:
            s += movie_bias[b]
        if a >= 0 and b >= 0:
            p = user_factors[a]
            q = movie_factors[b]
            dot = 0.0
            for f in range(k):
                dot += np.float64(p[f]) * np.float64(q[f])
            s += dot
        out[j] = s


def factor_predictions(mu, user_bias, movie_bias, user_factors, movie_factors, u, i) -> np.ndarray:
    """`predict_into` for float32 factor matrices; the indices are taken as int64."""
    if len(u) != len(i):  # the kernel reads i[j] for every j of u, unchecked
        raise ValueError(f"{len(u)} user indices but {len(i)} movie indices")
    out = np.empty(len(u), dtype=np.float64)
    predict_into(
        float(mu),
        np.ascontiguousarray(user_bias, dtype=np.float64),
        np.ascontiguousarray(movie_bias, dtype=np.float64),
        np.ascontiguousarray(user_factors),
        np.ascontiguousarray(movie_factors),
        np.asarray(u, dtype=np.int64),
        np.asarray(i, dtype=np.int64),
        out,
    )
    return out
