"""Neighbourhood collaborative filtering with a baseline (Surprise's `KNNBaseline`).

Both models first fit the regularized bias baseline b_ui = mu + b_u + b_i
(`movierec.models.baselines.BiasBaseline`) and then work on the residuals e_ui = r_ui - b_ui:

- Similarity ("pearson-baseline", the cosine of residuals over co-rated entries), shrunk
  towards 0 when the overlap n_ij is small:

      s_ij = n_ij / (n_ij + shrinkage) * sum_{u in U_ij} e_ui e_uj
                                        / sqrt(sum_{u in U_ij} e_ui^2 * sum_{u in U_ij} e_uj^2)

  with U_ij the users who rated both i and j (for users: the movies both rated). It is computed
  with sparse matrix products over blocks of columns: E^T E (numerators), B^T B with B the 0/1
  pattern (overlaps n_ij), (E∘E)^T B and B^T (E∘E) (the two sums of squares restricted to the
  overlap), for the upper triangle only (s is symmetric); there is no Python loop over ratings.

- Prediction: r̂_ui = b_ui + sum_{j in N} s_ij e_uj / sum_{j in N} |s_ij|, where N = N^n_i(u)
  are the n = `n_neighbors` movies rated by u with the largest similarity to i (for `UserKNN`:
  the n users who rated i most similar to u), counting only non-zero similarities; among equal
  similarities at the n-th place the earliest in the history (the lowest index) are kept. With
  fewer than `min_neighbors` such neighbours (default 1, as in Surprise) the prediction is b_ui.
  Predictions are clipped to the training rating range. These sums run in compiled kernels
  (`movierec.models._knn_kernel`, numba, one thread): `predict` one pair at a time, ranking a
  block of users against every movie, with the same per-pair routine, so a held-out pair's
  prediction and its ranking score agree to the bit (before clipping).

- Ranking (`score_users`, used by `recommend`): the unclipped predicted rating of every movie.
  That ranks rating-wise (good movies the user would rate highly), not by how likely the user
  is to watch them, so these models are weak on top-N hit metrics: on ml-100k (benchmarks/
  bench_ranking.py) nDCG@10 is about 0.1, below plain popularity, and with min_neighbors = 1 a
  movie with a single like-minded rater can top a list. A larger `min_neighbors` (20 in the benchmark) damps
  that; for top-N use `movierec.models.topn`.

Memory: the similarity matrix is dense float32, computed in column blocks (plus about
`block_memory_mb` of temporaries).

- `ItemKNN`: n_movies^2 * 4 bytes. The 17,770 Netflix movies need 17,770^2 * 4 B = 1.26 GB
  (2.5 GB in float64), which fits the default 4 GB cap. Time: the products cost sum over users
  of n_u^2 co-rating pairs each (over 1e10 for the full data), so above `max_similarity_pairs`
  (movierec.models.scale.KNN_PAIR_BUDGET) the similarities are estimated from a fixed hash
  sample of users that fits it (logged), every movie kept; predictions use every rating.
- `UserKNN`: n_users^2 * 4 bytes. 480,189 Netflix users would need 922 GB: impossible; fit on
  the subset of users the dbt vars `subset_user_fraction` / `subset_min_ratings_per_user` select
  (about 30,000 users fit in 3.6 GB).

A fit that would exceed `max_memory_gb` raises `SimilarityTooLarge` before allocating anything,
naming the subset vars to set.

Defaults (n_neighbors = 40, shrinkage = 100, min_neighbors = 1, baseline reg_user = 15, reg_movie = 10) are
Surprise's; on ml-100k (75/25 per-user split) they give test RMSE 0.920 (item) and 0.926 (user)
against 0.947 for the bias baseline alone.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from movierec.metrics import rmse
from movierec.models._knn_kernel import grid_averages, pair_averages
from movierec.models.base import Recommender, renamed_keyword
from movierec.models.baselines import BiasBaseline
from movierec.models.data import Ratings
from movierec.models.scale import KNN_PAIR_BUDGET, KNN_TRAIN_RMSE_PAIRS, similarity_users
from movierec.progress import Progress

SUBSET_VARS = {
    "movie": "subset_top_n_movies (keep the most-rated movies)",
    "user": "subset_user_fraction and/or subset_min_ratings_per_user (keep fewer users)",
}


class SimilarityTooLarge(MemoryError):
    """The dense similarity matrix of a kNN model would not fit the configured memory cap."""


class _BaselineKNN(Recommender):
    """Shared part of item- and user-based kNN with baseline; see the module docstring."""

    predicts_ratings = True
    entity: str = ""  # "movie" or "user": what the similarity matrix is indexed by

    def __init__(
        self,
        n_neighbors: int = 40,
        shrinkage: float = 100.0,
        min_neighbors: int = 1,
        reg_user: float = 15.0,
        reg_movie: float = 10.0,
        max_memory_gb: float = 4.0,
        block_memory_mb: float = 256.0,
        verbose: bool = False,
        max_similarity_pairs: float = KNN_PAIR_BUDGET,
        *,
        k: int | None = None,
        min_k: int | None = None,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        n_neighbors = renamed_keyword(n_neighbors, k, "k", "n_neighbors", owner)
        min_neighbors = renamed_keyword(min_neighbors, min_k, "min_k", "min_neighbors", owner)
        if n_neighbors < 1:
            raise ValueError("n_neighbors must be at least 1")
        if shrinkage < 0:
            raise ValueError("shrinkage must be non-negative")
        self.n_neighbors = int(n_neighbors)
        self.min_neighbors = int(min_neighbors)
        self.shrinkage = float(shrinkage)
        self.reg_user = float(reg_user)
        self.reg_movie = float(reg_movie)
        self.max_memory_gb = float(max_memory_gb)
        self.block_memory_mb = float(block_memory_mb)
        self.verbose = bool(verbose)
        self.max_similarity_pairs = float(max_similarity_pairs)  # item-based only (movierec.models.scale)
        self.baseline: BiasBaseline | None = None
        self.similarity = np.zeros((0, 0), dtype=np.float32)
        self.residuals: sp.csr_matrix | None = None  # users x movies, e_ui at the observed entries

    def hyperparameters(self) -> dict:
        return {
            "k": self.n_neighbors,
            "shrinkage": self.shrinkage,
            "min_k": self.min_neighbors,
            "reg_user": self.reg_user,
            "reg_movie": self.reg_movie,
        }

    def _fit(self, train: Ratings) -> None:
        n = train.n_movies if self.entity == "movie" else train.n_users
        check_similarity_memory(n, self.entity, self.max_memory_gb, type(self).__name__)
        self.baseline = BiasBaseline(self.reg_user, self.reg_movie).fit(train)
        b = self.baseline
        residual = train.rating - (b.global_mean + b.user_bias[train.user] + b.movie_bias[train.movie])
        self.residuals = train.csr(residual)
        if self.entity == "movie":  # similarity between movies; a user's history is a row
            sample = similarity_users(np.diff(self.residuals.indptr), self.max_similarity_pairs)
            if sample is None:
                self.similarity = residual_similarity(
                    self.residuals, _pattern(self.residuals), self.shrinkage, self.block_memory_mb, self.verbose
                )
            else:  # overlaps in the sample stand for overlap / (sampled share of ratings) in the data
                sampled = self.residuals[sample]  # the 0/1 pattern of the sample only, not of all the ratings
                share = sampled.nnz / self.residuals.nnz
                self.similarity = residual_similarity(
                    sampled,
                    _pattern(sampled),
                    self.shrinkage,
                    self.block_memory_mb,
                    self.verbose,
                    overlap_scale=1 / share,
                )
            self._histories = self.residuals
        else:  # similarity between users; a movie's raters are a column
            pattern = train.csr(np.ones(len(train)))
            self.similarity = residual_similarity(
                self.residuals.T.tocsr(), pattern.T.tocsr(), self.shrinkage, self.block_memory_mb, self.verbose
            )
            self._histories = self.residuals.tocsc()

    def _train_rmse(self, train: Ratings) -> float:
        """RMSE of `predict` on the training ratings; for item kNN above KNN_TRAIN_RMSE_PAIRS, on
        the training ratings of a fixed hash sample of users (logged). Predicting a user's own
        ratings looks up (movies rated)^2 similarities, 1.1e11 at the full Netflix size (hours)."""
        if self.entity == "movie":
            sample = similarity_users(
                np.bincount(train.user, minlength=train.n_users),
                KNN_TRAIN_RMSE_PAIRS,
                model=self.name,
                what="training RMSE",
            )
            if sample is not None:
                rows = np.isin(train.user, sample)
                return rmse(
                    self.predict(train.user_ids[train.user[rows]], train.movie_ids[train.movie[rows]]),
                    train.rating[rows],
                )
        return super()._train_rmse(train)

    def predict(self, user_id, movie_id) -> np.ndarray:
        assert self.train is not None and self.baseline is not None, "fit first"
        user = self.train.user_index(np.asarray(user_id))
        movie = self.train.movie_index(np.asarray(movie_id))
        pred = self.baseline.predict(user_id, movie_id)  # clipped; unknown ids get the known parts
        both = np.flatnonzero((user >= 0) & (movie >= 0))
        if len(both):
            u, i = user[both], movie[both]
            b = self.baseline
            base = b.global_mean + b.user_bias[u] + b.movie_bias[i]
            # the side whose history forms the neighbourhood is the key: the user for item-based
            key, target = (u, i) if self.entity == "movie" else (i, u)
            pred[both] = np.clip(base + self._averages(pair_averages, key, target), b.rating_min, b.rating_max)
        return pred

    def score_users(self, user_index: np.ndarray) -> np.ndarray:
        b = self.baseline
        user_index = np.asarray(user_index)
        base = b.global_mean + b.user_bias[user_index][:, None] + b.movie_bias[None, :]
        return base + self._residual_scores(user_index)

    def _residual_scores(self, user_index: np.ndarray) -> np.ndarray:
        """sum s e / sum |s| for every movie, for a block of users: (len(user_index), n_movies)."""
        raise NotImplementedError

    def _averages(self, kernel, keys: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """sum s e / sum |s| over the neighbourhood of each key's history (a user's rated movies for
        item-based, a movie's raters for user-based) at the targets, by `kernel`: `pair_averages`
        (one target per key) or `grid_averages` (every key against every target)."""
        h = self._histories
        return kernel(self.similarity, h.indptr, h.indices, h.data, keys, targets, self.n_neighbors, self.min_neighbors)


class ItemKNN(_BaselineKNN):
    """Item-based kNN with baseline: a movie's prediction borrows the user's residuals on the
    `n_neighbors` rated movies most similar to it.

    Learns the bias baseline and a dense movie x movie residual similarity (n_movies^2 float32:
    1.26 GB for 17,770 movies). Assumes that how a user deviates from the baseline on similar
    movies carries over. Unknown users or movies get the baseline's answer.
    """

    name = "item_knn"
    entity = "movie"

    def _residual_scores(self, user_index: np.ndarray) -> np.ndarray:
        return self._averages(grid_averages, user_index, np.arange(self.train.n_movies))


class UserKNN(_BaselineKNN):
    """User-based kNN with baseline: a user's prediction for a movie borrows the residuals of the
    `n_neighbors` most similar users who rated it.

    Learns the bias baseline and a dense user x user residual similarity (n_users^2 float32: the
    480K Netflix users would need 922 GB, so fit on a user subset). Assumes that users who deviated
    alike from the baseline in the past will do so again. Unknown users or movies get the
    baseline's answer.
    """

    name = "user_knn"
    entity = "user"

    def _residual_scores(self, user_index: np.ndarray) -> np.ndarray:
        return self._averages(grid_averages, np.arange(self.train.n_movies), user_index).T


def _pattern(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """1 at every stored entry of `matrix` (the same structure, float64)."""
    return sp.csr_matrix((np.ones(matrix.nnz), matrix.indices, matrix.indptr), shape=matrix.shape)


def residual_similarity(
    residuals: sp.csr_matrix,
    pattern: sp.csr_matrix,
    shrinkage: float,
    block_memory_mb: float = 256.0,
    verbose: bool = False,
    overlap_scale: float = 1.0,
) -> np.ndarray:
    """Shrunk cosine of residuals over co-observed rows between the columns of `residuals`.

    `residuals` (rows x columns) holds e at the observed entries, `pattern` 1 at the same
    entries. Returns the dense float32 columns x columns matrix s (module docstring formula) with
    a zero diagonal. It is exactly symmetric (s_ij and s_ji are the same sums over the same rows
    in the same order), which scoring relies on to read a column as a row; so each block of
    columns is computed for the rows up to its end only (the upper triangle and the diagonal
    blocks, about half the products) and the rest is mirrored, with the same values as computing
    all of it. Columns are processed in blocks so that the temporaries stay near
    `block_memory_mb`; `verbose` logs each block on stderr. `overlap_scale` multiplies the
    overlaps in the shrinkage factor (rows are a sample standing for 1/overlap_scale of the data).
    """
    n = residuals.shape[1]
    log = Progress("similarity", n, "columns", enabled=verbose, every=0.0)
    e = residuals.tocsc()
    b = pattern.tocsc()
    e2 = e.multiply(e).tocsc()
    e_t, b_t, e2_t = e.T.tocsr(), b.T.tocsr(), e2.T.tocsr()
    width = max(1, int(block_memory_mb * 2**20 / (6 * 8 * max(n, 1))))
    sim = np.zeros((n, n), dtype=np.float32)
    for start in range(0, n, width):
        cols = slice(start, min(start + width, n))
        upper = slice(0, cols.stop)  # rows i < the block's end: the entries below mirror later ones
        numerator = (_first_rows(e_t, cols.stop) @ e[:, cols]).toarray()
        overlap = (_first_rows(b_t, cols.stop) @ b[:, cols]).toarray()
        squares_row = (_first_rows(e2_t, cols.stop) @ b[:, cols]).toarray()  # sum of e_ui^2 over users who also rated j
        squares_col = (_first_rows(b_t, cols.stop) @ e2[:, cols]).toarray()  # sum of e_uj^2 over users who also rated i
        denominator = np.sqrt(squares_row * squares_col)
        block = np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)
        if shrinkage > 0:
            overlap *= overlap_scale
            block *= overlap / (overlap + shrinkage)
        sim[upper, cols] = block
        log.update(cols.stop)
    for start in range(0, n, width):  # the lower triangle: s_ij = s_ji exactly
        cols = slice(start, min(start + width, n))
        sim[cols.stop :, cols] = sim[cols, cols.stop :].T
    np.fill_diagonal(sim, 0.0)
    return sim


def _first_rows(matrix: sp.csr_matrix, stop: int) -> sp.csr_matrix:
    """Rows [0, stop) of a CSR matrix as a view of its arrays (row slicing would copy them)."""
    end = matrix.indptr[stop]
    return sp.csr_matrix(
        (matrix.data[:end], matrix.indices[:end], matrix.indptr[: stop + 1]), shape=(stop, matrix.shape[1]), copy=False
    )


def check_similarity_memory(n: int, entity: str, max_memory_gb: float, model: str) -> None:
    """Raise `SimilarityTooLarge` if an n x n float32 matrix exceeds `max_memory_gb`."""
    need_gb = n * n * 4 / 1e9
    if need_gb > max_memory_gb:
        raise SimilarityTooLarge(
            f"{model} needs a dense {n:,} x {n:,} float32 {entity} similarity matrix ({need_gb:,.1f} GB), "
            f"more than max_memory_gb={max_memory_gb:g}. Fit it on a subset: set the dbt vars "
            f"{SUBSET_VARS[entity]}, or raise max_memory_gb if the machine has the memory."
        )
