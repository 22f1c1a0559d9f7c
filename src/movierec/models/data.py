"""Observed ratings as parallel arrays with contiguous user and movie indices.

`Ratings` is what every model fits on. It keeps the original ids (`user_ids[u]` is the id of
user index `u`), so models can answer in ids and unknown ids get a defined index of -1.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from movierec.arrays import index_of as _index_of


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
    def from_ids(cls, user_id, movie_id, rating, user_ids=None, movie_ids=None) -> Ratings:
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
    def from_indexed(cls, user, movie, rating, user_ids, movie_ids) -> Ratings:
        """From indices already computed (by SQL: int_ratings_train's user_index and movie_index,
        dense ranks of the sorted ids), checked but not recomputed: no sort of the ratings."""
        user = np.ascontiguousarray(user, dtype=np.int32)
        movie = np.ascontiguousarray(movie, dtype=np.int32)
        user_ids, movie_ids = np.asarray(user_ids), np.asarray(movie_ids)
        for name, index, ids in (("user", user, user_ids), ("movie", movie, movie_ids)):
            if len(ids) and not (np.diff(ids) > 0).all():
                raise ValueError(f"{name}_ids must be sorted and unique")
            if len(index) and (index.min() < 0 or index.max() >= len(ids)):
                raise ValueError(f"{name} indices outside 0..{len(ids) - 1}")
        return cls(user, movie, np.asarray(rating, dtype=np.float64), user_ids, movie_ids)

    @classmethod
    def from_arrow(cls, table: pa.Table, user_ids=None, movie_ids=None) -> Ratings:
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
        """Users x movies sparse matrix of the ratings (or of `values` aligned with them). The
        matrix of the ratings themselves is built once and shared: treat it as read-only."""
        if values is None:
            return self._rating_csr
        return sp.csr_matrix((values, (self.user, self.movie)), shape=(self.n_users, self.n_movies))

    @cached_property
    def _rating_csr(self) -> sp.csr_matrix:
        return sp.csr_matrix((self.rating, (self.user, self.movie)), shape=(self.n_users, self.n_movies))

    def user_index(self, user_id) -> np.ndarray:
        """Index of each id, -1 where unknown."""
        return _index_of(self.user_ids, np.asarray(user_id))

    def movie_index(self, movie_id) -> np.ndarray:
        return _index_of(self.movie_ids, np.asarray(movie_id))


def training_ratings(relation) -> Ratings:
    """The training ratings of a DuckDB relation with columns user_id, movie_id, rating, user_index
    and movie_index (int_ratings_train), loaded once per process and shared.

    dbt runs every Python model in its own process, two at a time with threads 2: the first fit
    to ask loads the ratings and the others wait for it and reuse the same arrays (read-only), so
    100M ratings are read from DuckDB once per build, not once per model. The cache is keyed by
    the content (row count and an order-independent hash of every row, one scan in DuckDB), so a
    rebuilt table is never answered from a stale copy; it holds one training set at a time.
    The table is stored in no fixed order; the ratings come back sorted by (user_index,
    movie_index), so the fits' float sums, which follow the row order, are the same every build.
    """
    key = relation.aggregate("count(*), bit_xor(hash(user_id, movie_id, rating, user_index, movie_index))").fetchone()
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            _CACHE.clear()
            started = time.perf_counter()
            cached = _load_indexed(relation)
            _CACHE[key] = cached
            print(
                f"training ratings: loaded {len(cached):,} ratings of {cached.n_users:,} users and "
                f"{cached.n_movies:,} movies in {time.perf_counter() - started:.1f} s (shared by every fit)",
                file=sys.stderr,
                flush=True,
            )
    return cached


_CACHE: dict[tuple, Ratings] = {}
_CACHE_LOCK = threading.Lock()


def _load_indexed(relation) -> Ratings:
    columns = relation.select("user_index, movie_index, rating").fetchnumpy()
    user_ids = relation.aggregate("user_index, min(user_id) as user_id", "user_index").order("user_index").fetchnumpy()
    movie_ids = (
        relation.aggregate("movie_index, min(movie_id) as movie_id", "movie_index").order("movie_index").fetchnumpy()
    )
    for side, ids in (("user", user_ids), ("movie", movie_ids)):
        if not np.array_equal(ids[f"{side}_index"], np.arange(len(ids[f"{side}_index"]))):
            raise ValueError(f"{side}_index of the training ratings is not a dense rank 0..n-1")
    from movierec.models._rows_kernel import sort_pairs_inplace  # numba: imported by the fits only

    # (user_index, movie_index) order by two counting sorts: linear, where an ORDER BY in SQL
    # costs about 40 s of both cores at 100M ratings (the indices are 0..n-1, checked above)
    user = np.require(columns["user_index"], dtype=np.int32, requirements=["C", "W"])
    movie = np.require(columns["movie_index"], dtype=np.int32, requirements=["C", "W"])
    rating = np.require(columns["rating"], dtype=np.float64, requirements=["C", "W"])
    del columns
    sort_pairs_inplace(user, len(user_ids["user_id"]), movie, len(movie_ids["movie_id"]), rating)
    return Ratings.from_indexed(user, movie, rating, user_ids["user_id"], movie_ids["movie_id"])
