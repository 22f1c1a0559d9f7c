"""Observed ratings as parallel arrays with contiguous user and movie indices.

`Ratings` is what every model fits on. It keeps the original ids (`user_ids[u]` is the id of
user index `u`), so models can answer in ids and unknown ids get a defined index of -1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import scipy.sparse as sp


@dataclass(frozen=True, eq=False)
class Ratings:
    """Observed (user, movie, rating) triples.

    user: int32 index into `user_ids`; movie: int32 index into `movie_ids`; rating: float64.
    `user_ids` and `movie_ids` are sorted and unique.
    """

    user: np.ndarray
    movie: np.ndarray
    rating: np.ndarray
    user_ids: np.ndarray
    movie_ids: np.ndarray

    @classmethod
    def from_ids(cls, user_id, movie_id, rating, user_ids=None, movie_ids=None) -> "Ratings":
        """Build from id arrays. Pass `user_ids`/`movie_ids` to fix the index space (e.g. to index a
        test set like its training set); ids outside it raise."""
        user_id = np.asarray(user_id)
        movie_id = np.asarray(movie_id)
        uids = np.unique(user_id) if user_ids is None else np.asarray(user_ids)
        mids = np.unique(movie_id) if movie_ids is None else np.asarray(movie_ids)
        user = _index_of(uids, user_id)
        movie = _index_of(mids, movie_id)
        if (user < 0).any() or (movie < 0).any():
            raise ValueError("ratings contain ids outside the given user_ids/movie_ids")
        return cls(user.astype(np.int32), movie.astype(np.int32), np.asarray(rating, dtype=np.float64), uids, mids)

    @classmethod
    def from_arrow(cls, table: pa.Table, user_ids=None, movie_ids=None) -> "Ratings":
        """From a table with columns user_id, movie_id, rating (e.g. `dbt.ref(...).arrow()`)."""
        if hasattr(table, "read_all"):  # a RecordBatchReader
            table = table.read_all()
        return cls.from_ids(
            table.column("user_id").to_numpy(),
            table.column("movie_id").to_numpy(),
            table.column("rating").to_numpy(),
            user_ids,
            movie_ids,
        )

    def __len__(self) -> int:
        return len(self.rating)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_movies(self) -> int:
        return len(self.movie_ids)

    @cached_property
    def global_mean(self) -> float:
        return float(self.rating.mean())

    def csr(self, values: np.ndarray | None = None) -> sp.csr_matrix:
        """Users x movies sparse matrix of the ratings (or of `values` aligned with them)."""
        data = self.rating if values is None else values
        return sp.csr_matrix((data, (self.user, self.movie)), shape=(self.n_users, self.n_movies))

    def user_index(self, user_id) -> np.ndarray:
        """Index of each id, -1 where unknown."""
        return _index_of(self.user_ids, np.asarray(user_id))

    def movie_index(self, movie_id) -> np.ndarray:
        return _index_of(self.movie_ids, np.asarray(movie_id))


def _index_of(sorted_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    if len(sorted_ids) == 0:
        return np.full(len(ids), -1, dtype=np.int64)
    pos = np.searchsorted(sorted_ids, ids)
    pos = np.clip(pos, 0, len(sorted_ids) - 1)
    return np.where(sorted_ids[pos] == ids, pos, -1)
