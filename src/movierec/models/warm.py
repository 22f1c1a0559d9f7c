"""Compile the numba kernels once, at set-up, so that no fit pays for it.

numba compiles a kernel on its first call and caches the machine code in `__pycache__`
(`cache=True`); later processes load it in well under a second. Without this step the first
`make demo` after a fresh install would spend about 10 s compiling (iALS's conjugate-gradient
sweep about 3 s, item kNN's neighbourhood sums about 6 s, the counting sorts that order the
shared training ratings and group them by user and by movie for the alternating fits, their
normal equations and training errors in `RowBatches.sweep`, the row-wise top-k of the rankings,
a factor model's predictions). `make setup` runs

    python -m movierec.models.warm

which fits the models that use them on a few made-up ratings through the same code paths as a real fit,
so the kernels are compiled for exactly the argument types the fits pass. The cache sits beside
the sources (the editable install `make setup` makes); where they are read-only, numba uses
`~/.cache/numba`, or the folder named by the environment variable NUMBA_CACHE_DIR.
"""

from __future__ import annotations

import sys
import time

import numpy as np


def warm() -> float:
    """Fit item kNN (predictions and rankings), iALS (its conjugate-gradient solver) and biased
    MF (the ratings grouped with their values, the sweep's normal equations and errors, its
    predictions) on a tiny random data set, and rank float32 and float64 score blocks; returns
    the seconds it took."""
    from movierec.arrays import top_k_rows
    from movierec.models._rows_kernel import sort_pairs_inplace
    from movierec.models.data import Ratings
    from movierec.models.knn import ItemKNN
    from movierec.models.mf import BiasedMF
    from movierec.models.topn import ImplicitALS

    started = time.perf_counter()
    rng = np.random.default_rng(0)
    pairs = np.unique(rng.integers(0, 40, size=(400, 2)), axis=0)  # 40 users x 40 movies, distinct pairs
    ratings = Ratings.from_ids(pairs[:, 0] + 1, pairs[:, 1] + 1, rng.integers(1, 6, size=len(pairs)).astype(float))
    knn = ItemKNN(n_neighbors=5, min_neighbors=2).fit(ratings)
    knn.predict(ratings.user_ids[:5], ratings.movie_ids[:5])
    knn.recommend(ratings.user_ids[:5], k=3)
    ImplicitALS(n_factors=4, iterations=1, solver="cg").fit(ratings)
    BiasedMF(n_factors=4, epochs=1).fit(ratings).predict(ratings.user_ids[:5], ratings.movie_ids[:5])
    sort_pairs_inplace(
        ratings.user.copy(), ratings.n_users, ratings.movie.copy(), ratings.n_movies, ratings.rating.copy()
    )
    for dtype in (np.float32, np.float64):  # the serving blocks score in float32, the fits in float64
        top_k_rows(rng.standard_normal((3, 8)).astype(dtype), 2)
    return time.perf_counter() - started


def main() -> int:
    seconds = warm()
    print(f"movierec: numba kernels compiled and cached in {seconds:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
