"""The contract every recommender follows, and the shared parts: fallbacks, top-N, factor models.

A model is fitted on a `Ratings` and then answers in original ids:

- `predict(user_id, movie_id)`: predicted ratings (rating models). Unknown users or movies get
  a defined fallback, never an error: the parts of the model that are known (for a factor
  model: global mean + the known bias), else the global mean.
- `score_users(user_index)`: a dense (users x movies) score block, higher is better (ranking).
- `recommend(user_id, k)`: the top-k movies per user among movies the user has not rated in
  the training data, ties broken by movie id, ranks 1..k without gaps.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

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

    def fit(self, train: Ratings) -> "Recommender":
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
            rows = index[start:start + batch]
            scores = np.asarray(self.score_users(rows), dtype=np.float64)
            if seen is not None:
                block = seen[rows]
                scores[np.repeat(np.arange(len(rows)), np.diff(block.indptr)), block.indices] = -np.inf
            top = top_k_indices(scores, k_eff)
            top_scores = np.take_along_axis(scores, top, axis=1)
            valid = np.isfinite(top_scores)
            ranks = np.cumsum(valid, axis=1)
            out_user.append(np.repeat(train.user_ids[rows], k_eff).reshape(len(rows), k_eff)[valid])
            out_rank.append(ranks[valid])
            out_movie.append(train.movie_ids[top][valid])
            out_score.append(top_scores[valid])
        if not out_user:
            empty = np.array([], dtype=np.int64)
            return empty, empty, empty, np.array([], dtype=np.float64)
        return (np.concatenate(out_user), np.concatenate(out_rank), np.concatenate(out_movie),
                np.concatenate(out_score))


def top_k_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k largest scores per row, best first; equal scores by smaller index."""
    n = scores.shape[1]
    if k >= n:
        part = np.broadcast_to(np.arange(n), scores.shape).copy()
    else:
        # argpartition is not stable; widen the candidate set to include every tie at the cut.
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        kth = np.take_along_axis(scores, part, axis=1).min(axis=1, keepdims=True)
        if (np.sum(scores >= kth, axis=1) > k).any():
            part = np.argsort(-scores, axis=1, kind="stable")[:, :k]
            return part
    order = np.lexsort((part, -np.take_along_axis(scores, part, axis=1)), axis=1)
    return np.take_along_axis(part, order, axis=1)


def rmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(predicted) - np.asarray(actual)) ** 2)))


@dataclass
class FactorModel(Recommender):
    """A fitted model of the form  r(u, i) = mu + b_u + b_i + p_u . q_i  (any part may be zero).

    Bias-only models have k = 0 factors; ranking-only factor models (implicit ALS) have zero
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
    def k(self) -> int:
        return self.movie_factors.shape[1] if self.movie_factors.ndim == 2 else 0

    def _set_range(self, train: Ratings) -> None:
        self.rating_min = float(train.rating.min())
        self.rating_max = float(train.rating.max())

    def _chunk(self) -> int:
        """Pairs predicted at once: about 2^26 gathered factors (256 MB of float32 per side), so a
        model with k x samples columns (Bayesian MF) gathers no more than a k = 64 model."""
        return max(4096, (1 << 26) // max(self.k, 1))

    def predict(self, user_id, movie_id, chunk: int | None = None) -> np.ndarray:
        """Predicted ratings, `chunk` pairs at a time (100M pairs never gather 100M x k factors)."""
        assert self.train is not None, "fit first"
        chunk = chunk or self._chunk()
        user_id, movie_id = np.asarray(user_id), np.asarray(movie_id)
        pred = np.empty(len(user_id), dtype=np.float64)
        for start in range(0, len(user_id), chunk):
            stop = start + chunk
            pred[start:stop] = self._predict_index(self.train.user_index(user_id[start:stop]),
                                                   self.train.movie_index(movie_id[start:stop]))
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
        known_u, known_i = u >= 0, i >= 0
        pred = np.full(len(u), self.global_mean, dtype=np.float64)
        if len(self.user_bias):
            pred[known_u] += self.user_bias[u[known_u]]
        if len(self.movie_bias):
            pred[known_i] += self.movie_bias[i[known_i]]
        both = known_u & known_i
        if self.k:
            pred[both] += np.einsum("ij,ij->i", self.user_factors[u[both]], self.movie_factors[i[both]],
                                    dtype=np.float64)
        return pred

    def score_users(self, user_index: np.ndarray) -> np.ndarray:
        scores = np.zeros((len(user_index), self.train.n_movies))
        if len(self.movie_bias):
            scores += self.movie_bias[None, :]
        if self.k:
            scores += self.user_factors[user_index] @ self.movie_factors.T
        return scores  # the user's own bias and mu do not change the order
