"""Non-personalized ranking baselines: the same order of movies for every user.

Both rank movies by one number learned from the training ratings, built on the `Recommender`
contract (seen movies excluded, ties by the smaller movie id). They are the floor every
personalized model has to beat, and the fallback for users a model does not know.
"""

from __future__ import annotations

import numpy as np

from movierec.models.base import Recommender
from movierec.models.data import Ratings


class _StaticRanking(Recommender):
    """A recommender whose score of a movie does not depend on the user."""

    def __init__(self) -> None:
        super().__init__()
        self.movie_scores = np.zeros(0)

    def score_users(self, user_index: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.movie_scores, (len(user_index), len(self.movie_scores))).copy()


class Popularity(_StaticRanking):
    """Most-rated movies first.

    Learns the number of training ratings of each movie (any rating value counts as an
    interaction) and recommends by that count; equal counts by the smaller movie id.
    """

    name = "popularity"

    def _fit(self, train: Ratings) -> None:
        self.movie_scores = np.bincount(train.movie, minlength=train.n_movies).astype(np.float64)


class DampedPopularity(_StaticRanking):
    """Best damped mean rating first: (sum of ratings + m * mu) / (count + m).

    Learns, per movie, the mean rating shrunk towards the global mean `mu` by `damping` (m)
    pseudo-ratings, so a movie with two 5-star ratings does not outrank one with thousands of
    4.5s. m = 0 is the plain mean; large m tends to the global mean for every movie.
    """

    name = "damped_popularity"

    def __init__(self, damping: float = 10.0) -> None:
        super().__init__()
        if damping < 0:
            raise ValueError("damping must be non-negative")
        self.damping = float(damping)

    def hyperparameters(self) -> dict:
        return {"damping": self.damping}

    def _fit(self, train: Ratings) -> None:
        counts = np.bincount(train.movie, minlength=train.n_movies).astype(np.float64)
        sums = np.bincount(train.movie, weights=train.rating, minlength=train.n_movies)
        mu = train.global_mean
        denominator = counts + self.damping
        self.movie_scores = np.divide(
            sums + self.damping * mu, denominator, out=np.full(train.n_movies, mu), where=denominator > 0
        )
