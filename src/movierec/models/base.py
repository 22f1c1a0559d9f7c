"""The contract every recommender follows, and the shared parts: fallbacks, top-N, factor models.

A model is fitted on a `Ratings` and then answers in original ids:

- `predict(user_id, movie_id)`: predicted ratings (rating models). Unknown users or movies get
  a defined fallback, never an error: the parts of the model that are known (for a factor
  model: global mean + the known bias), else the global mean.
- `score_users(user_index)`: a dense (users x movies) score block, higher is better (ranking).
- `recommend(user_id, k)`: the top-k movies per user among movies the user has not rated in
  the training data, ties broken by movie id, ranks 1..k without gaps.

A factor model (`FactorModel`) also folds a new user in: `fold_in(movie_index, ratings)` gives
the (b_u, p_u) its own user step would give someone with those ratings, against the fixed movie
side. The math is a classmethod on the stored parameters (`fold_in_stored`), so the serving layer,
which has only the warehouse's tables, runs exactly the model's own code.
"""

from __future__ import annotations

import inspect
import time
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from movierec.arrays import top_k_rows
from movierec.metrics import rmse
from movierec.models.data import Ratings


class Recommender(ABC):
    """Base class. Subclasses set `name`, implement `_fit` and `score_users`, and `predict` if they
    predict ratings (`predicts_ratings = True`)."""

    name: str = "recommender"
    predicts_ratings: bool = False

    def __init__(self) -> None:
        self.train: Ratings | None = None
        self.fit_seconds: float | None = None
        self.train_rmse: float | None = None

    # --- fitting --------------------------------------------------------------------------------

    def fit(self, train: Ratings) -> Recommender:
        start = time.perf_counter()
        self.train = train
        self._fit(train)
        self.fit_seconds = time.perf_counter() - start
        if self.predicts_ratings:
            self.train_rmse = self._train_rmse(train)
        return self

    def _train_rmse(self, train: Ratings) -> float:
        """RMSE of `predict` on the training ratings. Subclasses may compute it faster (skip the
        id lookups, or reuse what the fit already knows), never differently."""
        return rmse(self.predict(train.user_ids[train.user], train.movie_ids[train.movie]), train.rating)

    @abstractmethod
    def _fit(self, train: Ratings) -> None: ...

    def hyperparameters(self) -> dict:
        """The settings that define this fit (for model_runs)."""
        return {}

    # --- answering ------------------------------------------------------------------------------

    def predict(self, user_id, movie_id) -> np.ndarray:
        raise NotImplementedError(f"{self.name} ranks movies but does not predict ratings")

    @abstractmethod
    def score_users(self, user_index: np.ndarray) -> np.ndarray:
        """Scores of every movie (columns in `train.movie_ids` order) for these user indices."""

    def recommend(self, user_id, k: int = 10, exclude_seen: bool = True, batch: int = 2048):
        """Top-k per known user: arrays (user_id, rank, movie_id, score), ranks 1..k.

        Users unknown to the model are skipped (the caller decides their fallback, e.g.
        popularity). Movies the user rated in training are excluded when `exclude_seen`.
        Ties are broken by the smaller movie id.
        """
        assert self.train is not None, "fit first"
        train = self.train
        index = train.user_index(np.asarray(user_id))
        index = index[index >= 0]
        seen = train.csr() if exclude_seen else None
        out_user, out_rank, out_movie, out_score = [], [], [], []
        k_eff = min(k, train.n_movies)
        for start in range(0, len(index), batch):
            rows = index[start : start + batch]
            scores = np.asarray(self.score_users(rows), dtype=np.float64)
            if seen is not None:
                block = seen[rows]
                scores[np.repeat(np.arange(len(rows)), np.diff(block.indptr)), block.indices] = -np.inf
            top, valid = top_k_rows(scores, k_eff)
            top_scores = np.take_along_axis(scores, top, axis=1)
            ranks = np.cumsum(valid, axis=1)
            out_user.append(np.repeat(train.user_ids[rows], k_eff).reshape(len(rows), k_eff)[valid])
            out_rank.append(ranks[valid])
            out_movie.append(train.movie_ids[top][valid])
            out_score.append(top_scores[valid])
        if not out_user:
            empty = np.array([], dtype=np.int64)
            return empty, empty, empty, np.array([], dtype=np.float64)
        return (
            np.concatenate(out_user),
            np.concatenate(out_rank),
            np.concatenate(out_movie),
            np.concatenate(out_score),
        )


@dataclass
class FactorModel(Recommender):
    """A fitted model of the form  r(u, i) = mu + b_u + b_i + p_u . q_i  (any part may be zero).

    Bias-only models have 0 factor columns; ranking-only factor models (implicit ALS) have zero
    biases. Predictions are clipped to [rating_min, rating_max] when those are set.
    """

    name: str = "factor_model"
    global_mean: float = 0.0
    user_bias: np.ndarray = field(default_factory=lambda: np.zeros(0))
    movie_bias: np.ndarray = field(default_factory=lambda: np.zeros(0))
    user_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    movie_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    rating_min: float | None = None
    rating_max: float | None = None

    def __post_init__(self) -> None:
        Recommender.__init__(self)

    def _fit(self, train: Ratings) -> None:  # subclasses learn the parameters
        raise NotImplementedError

    @property
    def factor_columns(self) -> int:
        """Columns of the fitted factor matrices: the model's `n_factors`, fewer when capped (truncated
        SVD), n_factors x samples when samples are stacked (Bayesian MF), 0 for bias-only models."""
        return self.movie_factors.shape[1] if self.movie_factors.ndim == 2 else 0

    @property
    def k(self) -> int:
        """Deprecated name of `factor_columns` (`k` means a list length elsewhere)."""
        warnings.warn("FactorModel.k is deprecated: use factor_columns", DeprecationWarning, stacklevel=2)
        return self.factor_columns

    # --- folding in a new user ------------------------------------------------------------------

    def fold_in(self, movie_index: np.ndarray, ratings: np.ndarray) -> tuple[float, np.ndarray]:
        """A new user's (b_u, p_u) from their ratings of these movies (indices into `train.movie_ids`),
        without refitting: what this model's own user step gives, against its fixed movie side.
        The same code the serving layer runs on the stored parameters (`fold_in_stored`)."""
        assert self.train is not None, "fit first"
        return type(self).fold_in_stored(
            self.hyperparameters(),
            self.global_mean,
            self.movie_bias,
            self.movie_factors,
            movie_index,
            ratings,
            has_user_bias=bool(len(self.user_bias) and np.any(self.user_bias != 0)),
        )

    @classmethod
    def fold_in_stored(
        cls,
        hyperparameters: dict,
        global_mean: float,
        movie_bias: np.ndarray,
        movie_factors: np.ndarray,
        movie_index: np.ndarray,
        ratings: np.ndarray,
        *,
        has_user_bias: bool = True,
        gram: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray]:
        """`fold_in` from stored parameters (as model_runs, movie_factors and user_factors keep them):
        the run's `hyperparameters`, mu, the movie biases and factors (n_movies, columns; float32),
        whether the model learned user biases at all (it did if any stored one is not 0), and
        optionally Q^T Q (float64) over every movie, cached by the caller. Returns (b_u, p_u) with
        p_u float32 of the stored width. Each factor model implements it with its own user step."""
        raise NotImplementedError(f"{cls.__name__} does not fold in new users")

    @classmethod
    def stored_setting(cls, hyperparameters: dict | None, name: str):
        """For `fold_in_stored`: the run's stored setting `name` (an argument of the class's
        `__init__`), or the class's default for a run that does not name it."""
        hyper = hyperparameters or {}
        return hyper[name] if name in hyper else inspect.signature(cls.__init__).parameters[name].default

    def _set_range(self, train: Ratings) -> None:
        self.rating_min = float(train.rating.min())
        self.rating_max = float(train.rating.max())

    def _chunk(self) -> int:
        """Pairs predicted at once: about 2^26 gathered factors (256 MB of float32 per side), so a
        model with k x samples columns (Bayesian MF) gathers no more than a k = 64 model."""
        return max(4096, (1 << 26) // max(self.factor_columns, 1))

    def predict(self, user_id, movie_id, chunk: int | None = None) -> np.ndarray:
        """Predicted ratings, `chunk` pairs at a time (100M pairs never gather 100M x k factors)."""
        assert self.train is not None, "fit first"
        chunk = chunk or self._chunk()
        user_id, movie_id = np.asarray(user_id), np.asarray(movie_id)
        pred = np.empty(len(user_id), dtype=np.float64)
        for start in range(0, len(user_id), chunk):
            stop = start + chunk
            pred[start:stop] = self._predict_index(
                self.train.user_index(user_id[start:stop]), self.train.movie_index(movie_id[start:stop])
            )
        return self._clip(pred)

    def _train_rmse(self, train: Ratings, chunk: int | None = None) -> float:
        chunk = chunk or self._chunk()
        pred = np.empty(len(train), dtype=np.float64)
        for start in range(0, len(train), chunk):
            stop = start + chunk
            pred[start:stop] = self._predict_index(train.user[start:stop], train.movie[start:stop])
        return rmse(self._clip(pred), train.rating)

    def _clip(self, pred: np.ndarray) -> np.ndarray:
        if self.rating_min is not None:
            np.clip(pred, self.rating_min, self.rating_max, out=pred)
        return pred

    def _predict_index(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        """Unclipped predictions for user and movie indices; -1 (unknown) contributes nothing."""
        if self.factor_columns and self.user_factors.dtype == self.movie_factors.dtype == np.float32:
            from movierec.models._factor_kernel import factor_predictions  # one compiled pass

            return factor_predictions(
                self.global_mean, self.user_bias, self.movie_bias, self.user_factors, self.movie_factors, u, i
            )
        known_u, known_i = u >= 0, i >= 0
        pred = np.full(len(u), self.global_mean, dtype=np.float64)
        if len(self.user_bias):
            pred[known_u] += self.user_bias[u[known_u]]
        if len(self.movie_bias):
            pred[known_i] += self.movie_bias[i[known_i]]
        both = known_u & known_i
        if self.factor_columns:
            pred[both] += np.einsum(
                "ij,ij->i", self.user_factors[u[both]], self.movie_factors[i[both]], dtype=np.float64
            )
        return pred

    def score_users(self, user_index: np.ndarray) -> np.ndarray:
        scores = np.zeros((len(user_index), self.train.n_movies))
        if len(self.movie_bias):
            scores += self.movie_bias[None, :]
        if self.factor_columns:
            scores += self.user_factors[user_index] @ self.movie_factors.T
        return scores  # the user's own bias and mu do not change the order


def renamed_keyword(value, old_value, old: str, new: str, owner: str):
    """`value`, or `old_value` when a caller still passes the deprecated keyword `old` (with a
    DeprecationWarning naming `new`)."""
    if old_value is None:
        return value
    warnings.warn(f"{owner}({old}=...) is deprecated: use {new}=", DeprecationWarning, stacklevel=3)
    return old_value


def ridge_user_step(
    global_mean: float,
    movie_bias: np.ndarray,
    movie_factors: np.ndarray,
    movie_index: np.ndarray,
    ratings: np.ndarray,
    reg: float,
    reg_bias: float,
    weighted_reg: bool,
    has_user_bias: bool = True,
) -> tuple[float, np.ndarray]:
    """The explicit-feedback ALS user step for one user, exactly: the ridge regression

        [b_u, p_u] = (X^T X + n^a diag(reg_bias, reg, ..., reg))^-1 X^T (r - mu - b_i),  X = [1 | Q_rated]

    with a = 1 when `weighted_reg` (ALS-WR), else 0; without the bias column when the model has no
    user biases. Returns (b_u, p_u) with p_u float32."""
    movie_index = np.asarray(movie_index, dtype=np.int64)
    ratings = np.asarray(ratings, dtype=np.float64)
    n, k = len(movie_index), movie_factors.shape[1]
    if n == 0:
        return 0.0, np.zeros(k, dtype=np.float32)
    target = ratings - global_mean - movie_bias[movie_index]
    scale = float(n) if weighted_reg else 1.0
    columns, penalty = [], []
    if has_user_bias:
        columns.append(np.ones((n, 1)))
        penalty.append(reg_bias)
    if k:
        columns.append(movie_factors[movie_index].astype(np.float64))
        penalty.extend([reg] * k)
    if not columns:
        return 0.0, np.zeros(k, dtype=np.float32)
    x = np.hstack(columns)
    a = x.T @ x + np.diag(np.asarray(penalty) * scale)
    w = np.linalg.solve(a, x.T @ target)
    bias = float(w[0]) if has_user_bias else 0.0
    factors = w[1:] if has_user_bias else w
    return bias, factors.astype(np.float32)
