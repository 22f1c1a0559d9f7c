"""Serving recommendations: a user's top-N, similar movies, a new user folded in, title search.

Built on the warehouse's factor tables (user_factors, movie_factors, model_runs: see
models/marts/evaluation) and the serving marts (serving_config, serving_user_ratings,
popular_movies, dim_movies: see models/marts/serving); numpy does the arithmetic. The rules are
those of the SQL model user_recommendations, so the API and the table agree:

- score = global_mean + b_u + b_i + p_u . q_i (the predicted rating, unclipped; a preference
  score for ranking-only models), over the model's movies the user has not rated; equal scores
  by the smaller movie_id; ranks 1..k without gaps.
- reason: the movie the user rated at least `reason_min_rating` whose factors are most similar
  to the recommended movie's (cosine, positive only; equal similarity: smaller movie_id).
- cold start: users unknown to the model or with fewer than `recommendations_min_user_ratings`
  ratings get the most-rated movies they have not rated.
- similar movies: cosine of the factors, among movies with at least
  `similar_movies_min_ratings` ratings.
- fold-in: a new user's bias and factors by ridge regression against the fixed movie factors,
  which is exactly the model's own user step (`fold_in_user`).

`Service` reads the warehouse in one of two ways. `preload=False` (the library, the CLI): each
call opens a read-only connection, looks the user up with parameterized SQL and closes it again;
the movie side (factors, titles, popularity) is cached until the file changes. `preload=True`
(the HTTP server): everything served, every user's factors and history included, is loaded in
one read-only transaction and the connection closed, so the server never holds the file while
it answers; when the file changes it reloads in the background and swaps. See `Service`.

`batch_user_recommendations` and `batch_similar_movies` are the full-size batch path (the
`python` engine of the serving marts): numpy BLAS in user blocks, top-k by argpartition, seen
movies masked from a CSR of each block's histories.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Iterator, Mapping

import duckdb
import numpy as np
import pyarrow as pa

from movierec.warehouse import connect, warehouse_path

MAX_K = 1000
MAX_FOLD_IN_RATINGS = 10_000
_INT64 = np.iinfo(np.int64)


# --- errors ------------------------------------------------------------------------------------

class ServingError(Exception):
    """Base class of the errors the API maps to HTTP statuses."""


class WarehouseUnavailable(ServingError):
    """The warehouse cannot be read now: missing, not built, or locked by a writer (dbt build). HTTP 503."""


class UnknownMovie(ServingError, LookupError):
    """A movie id that is not in the catalog (dim_movies). HTTP 404."""


class InvalidRequest(ServingError, ValueError):
    """A request the service cannot answer as asked: bad k, unknown model, ratings off the scale. HTTP 422."""


# --- results -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recommendation:
    rank: int
    movie_id: int
    title: str | None
    release_year: int | None
    score: float
    reason: str | None
    reason_movie_id: int | None


@dataclass(frozen=True)
class Recommendations:
    """A top-k list. `model_name` is 'popularity' for the cold-start fallback; `cold_start_reason`
    then says why. `ignored_movie_ids` (fold-in only): rated movies the model has no factors for."""

    user_id: int | None
    model_name: str
    cold_start: bool
    cold_start_reason: str | None
    rating_count: int
    items: list[Recommendation]
    ignored_movie_ids: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SimilarMovie:
    rank: int
    movie_id: int
    title: str | None
    release_year: int | None
    similarity: float


@dataclass(frozen=True)
class SimilarMovies:
    movie_id: int
    title: str | None
    release_year: int | None
    model_name: str | None
    items: list[SimilarMovie]
    note: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Movie:
    movie_id: int
    title: str | None
    release_year: int | None
    rating_count: int

    def to_dict(self) -> dict:
        return asdict(self)


# --- what is read from the warehouse -----------------------------------------------------------

@dataclass(frozen=True)
class ServingConfig:
    """The row of serving_config: the serving model and the serving vars."""

    model_name: str | None
    requested_model_name: str
    is_requested_model: bool
    recommendations_k: int
    min_user_ratings: int
    similar_movies_k: int
    similar_min_ratings: int
    reason_min_rating: float
    rating_min: float | None
    rating_max: float | None

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection, source: str = "serving_config") -> "ServingConfig":
        row = _fetch_dicts(con, f"""
            select model_name, requested_model_name, is_requested_model, recommendations_k,
                recommendations_min_user_ratings, similar_movies_k, similar_movies_min_ratings,
                reason_min_rating, rating_min, rating_max
            from {source}""")
        if len(row) != 1:
            raise WarehouseUnavailable(f"serving_config has {len(row)} rows, expected 1: run `dbt build`")
        r = row[0]
        return cls(
            model_name=r["model_name"], requested_model_name=r["requested_model_name"],
            is_requested_model=bool(r["is_requested_model"]), recommendations_k=int(r["recommendations_k"]),
            min_user_ratings=int(r["recommendations_min_user_ratings"]),
            similar_movies_k=int(r["similar_movies_k"]), similar_min_ratings=int(r["similar_movies_min_ratings"]),
            reason_min_rating=float(r["reason_min_rating"]),
            rating_min=None if r["rating_min"] is None else float(r["rating_min"]),
            rating_max=None if r["rating_max"] is None else float(r["rating_max"]),
        )


@dataclass
class ModelFactors:
    """The movie side of one fitted factor model: r(u, i) = global_mean + b_u + b_i + p_u . q_i.

    `movie_ids` is sorted, so a movie's index order is its id order (ties by smaller index are
    ties by smaller movie_id). Bias-only models have k = 0 factor columns. `has_user_bias` says
    whether the model learns user biases at all (fold-in solves for one only if it does).
    """

    model_name: str
    global_mean: float
    hyperparameters: dict
    movie_ids: np.ndarray      # (n,) int64, sorted
    movie_bias: np.ndarray     # (n,) float64
    movie_factors: np.ndarray  # (n, k) float32
    has_user_bias: bool = True
    unit: np.ndarray = field(init=False, repr=False)           # rows scaled to length 1 (zero rows stay 0)
    has_direction: np.ndarray = field(init=False, repr=False)  # rows with a non-zero factor vector
    _gram: np.ndarray | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        norms = np.linalg.norm(self.movie_factors.astype(np.float64), axis=1)
        self.has_direction = norms > 0
        safe = np.where(self.has_direction, norms, 1.0)
        self.unit = (self.movie_factors / safe[:, None]).astype(np.float32)

    @property
    def k(self) -> int:
        return self.movie_factors.shape[1]

    def index(self, movie_id) -> np.ndarray:
        return _index_of(self.movie_ids, movie_id)

    def gram(self) -> np.ndarray:
        """Q^T Q over every movie (float64), for the implicit-feedback fold-in."""
        if self._gram is None:
            q = self.movie_factors.astype(np.float64)
            self._gram = q.T @ q
        return self._gram


@dataclass
class Catalog:
    """Every movie in dim_movies (ids sorted) and the popularity order of popular_movies."""

    movie_ids: np.ndarray       # (n,) int64 sorted
    titles: list                # str | None per movie
    release_years: list         # int | None per movie
    labels: list                # dim_movies.label per movie: 'Title (1999)', defined once in SQL
    rating_counts: np.ndarray   # (n,) int64
    popular: np.ndarray         # catalog indices, most-rated first
    popular_scores: np.ndarray  # popular_movies.score in the same order
    _folded: list = field(default_factory=list, init=False, repr=False)

    def index(self, movie_id) -> np.ndarray:
        return _index_of(self.movie_ids, movie_id)

    def movie(self, i: int) -> Movie:
        return Movie(int(self.movie_ids[i]), self.titles[i], self.release_years[i], int(self.rating_counts[i]))

    def label(self, i: int) -> str:
        """'Title (1999)', 'Title' without a year, 'movie 123' without a title: dim_movies.label."""
        return self.labels[i]

    def search(self, text: str, limit: int = 20) -> list[Movie]:
        """Movies whose title contains `text`, ignoring case (Unicode case folding). Plain substring
        match in Python: quotes, %, _ and SQL are just characters. Exact title first, then titles that
        start with the text, then the most-rated, then by movie_id."""
        needle = text.casefold().strip()
        if not needle:
            return []
        if not self._folded:
            self._folded = [(t or "").casefold() for t in self.titles]
        hits = [i for i, title in enumerate(self._folded) if needle in title]
        hits.sort(key=lambda i: (self._folded[i] != needle, not self._folded[i].startswith(needle),
                                 -int(self.rating_counts[i]), int(self.movie_ids[i])))
        return [self.movie(i) for i in hits[:limit]]


@dataclass
class UserFactorTable:
    """Every user's bias and factors for one model (preloaded), user_ids sorted."""

    user_ids: np.ndarray
    bias: np.ndarray
    factors: np.ndarray


@dataclass
class UserHistories:
    """Every user's rated movies and ratings (preloaded) as a CSR: user i's are [indptr[i], indptr[i+1])."""

    user_ids: np.ndarray
    indptr: np.ndarray
    movie_ids: np.ndarray
    ratings: np.ndarray

    def get(self, user_id: int) -> tuple[np.ndarray, np.ndarray] | None:
        i = int(_index_of(self.user_ids, [user_id])[0])
        if i < 0:
            return None
        lo, hi = self.indptr[i], self.indptr[i + 1]
        return self.movie_ids[lo:hi].astype(np.int64), self.ratings[lo:hi].astype(np.float64)

    @property
    def nbytes(self) -> int:
        return self.user_ids.nbytes + self.indptr.nbytes + self.movie_ids.nbytes + self.ratings.nbytes


def read_model_factors(con: duckdb.DuckDBPyConnection, model_name: str, *, movie_factors: str = "movie_factors",
                       user_factors: str = "user_factors", model_runs: str = "model_runs") -> ModelFactors:
    """Load a model's movie side (parameterized by model name)."""
    table = con.execute(
        f"select movie_id, bias, factors from {movie_factors} where model_name = ? order by movie_id",
        [model_name]).to_arrow_table()
    if table.num_rows == 0:
        raise InvalidRequest(f"model {model_name!r} has no rows in movie_factors")
    runs = _fetch_dicts(con, f"select global_mean, hyperparameters from {model_runs} where model_name = ?",
                        [model_name])
    hyper = {}
    global_mean = 0.0
    if runs:
        global_mean = float(runs[0]["global_mean"] or 0.0)
        raw = runs[0]["hyperparameters"]
        hyper = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
    has_user_bias = con.execute(
        f"select coalesce(max(abs(bias)), 0) > 0 from {user_factors} where model_name = ?", [model_name]).fetchone()[0]
    return ModelFactors(
        model_name=model_name, global_mean=global_mean, hyperparameters=hyper,
        movie_ids=table.column("movie_id").to_numpy().astype(np.int64),
        movie_bias=np.nan_to_num(table.column("bias").to_numpy(zero_copy_only=False).astype(np.float64)),
        movie_factors=_factor_matrix(table.column("factors")),
        has_user_bias=bool(has_user_bias),
    )


def read_catalog(con: duckdb.DuckDBPyConnection) -> Catalog:
    movies = con.execute(
        "select movie_id, title, release_year, label, rating_count from dim_movies order by movie_id").to_arrow_table()
    popular = con.execute("select movie_id, score from popular_movies order by popularity_rank").to_arrow_table()
    movie_ids = movies.column("movie_id").to_numpy().astype(np.int64)
    popular_idx = _index_of(movie_ids, popular.column("movie_id").to_numpy())
    keep = popular_idx >= 0
    return Catalog(
        movie_ids=movie_ids,
        titles=movies.column("title").to_pylist(),
        release_years=movies.column("release_year").to_pylist(),
        labels=movies.column("label").to_pylist(),
        rating_counts=np.nan_to_num(movies.column("rating_count").to_numpy(zero_copy_only=False)).astype(np.int64),
        popular=popular_idx[keep],
        popular_scores=popular.column("score").to_numpy(zero_copy_only=False).astype(np.float64)[keep],
    )


def read_user_factor_table(con: duckdb.DuckDBPyConnection, model_name: str) -> UserFactorTable:
    table = con.execute("select user_id, bias, factors from user_factors where model_name = ? order by user_id",
                        [model_name]).to_arrow_table()
    return UserFactorTable(
        user_ids=table.column("user_id").to_numpy().astype(np.int64),
        bias=np.nan_to_num(table.column("bias").to_numpy(zero_copy_only=False).astype(np.float64)),
        factors=_factor_matrix(table.column("factors")),
    )


def read_user_histories(con: duckdb.DuckDBPyConnection, source: str = "serving_user_ratings",
                        batch_rows: int = 1 << 20) -> UserHistories:
    """Every user's ratings as a CSR, streamed in batches into compact arrays: movie ids in the smallest
    integer type that holds them, ratings as float16 when that is exact (whole and half stars), so about
    4 bytes a rating stay in memory (plus 4 per rating while loading) at the Netflix size. The table is
    stored in (user_id, movie_id) order and a plain scan returns it so; that is checked, and sorted here
    if it ever is not, so no ORDER BY over 100M rows is needed."""
    n, top, low, halves = con.execute(f"""
        select count(*), coalesce(max(movie_id), 0), coalesce(min(movie_id), 0),
            coalesce(bool_and(rating * 2 = round(rating * 2) and abs(rating) < 1000), true)
        from {source}""").fetchone()
    movie_dtype = np.int16 if 0 <= low and top <= np.iinfo(np.int16).max else np.int32
    users = np.empty(n, dtype=np.int64 if n == 0 else np.int32)
    movies = np.empty(n, dtype=movie_dtype)
    ratings = np.empty(n, dtype=np.float16 if halves else np.float32)
    reader = con.execute(f"select user_id, movie_id, rating from {source}").to_arrow_reader(batch_rows)
    at, ordered, last = 0, True, (-(2**62), -(2**62))
    for batch in reader:
        b_users = batch.column(0).to_numpy()
        b_movies = batch.column(1).to_numpy()
        m = len(b_users)
        if m == 0:
            continue
        users[at:at + m], movies[at:at + m] = b_users, b_movies
        ratings[at:at + m] = batch.column(2).to_numpy(zero_copy_only=False)
        if ordered:
            step_u, step_m = np.diff(b_users), np.diff(b_movies)
            ordered = (b_users[0], b_movies[0]) > last and not (
                (step_u < 0).any() or ((step_u == 0) & (step_m <= 0)).any())
            last = (int(b_users[-1]), int(b_movies[-1]))
        at += m
    if not ordered:
        order = np.lexsort((movies, users))
        users, movies, ratings = users[order], movies[order], ratings[order]
    starts = np.flatnonzero(np.diff(users)) + 1
    indptr = np.concatenate([[0], starts, [n]]).astype(np.int64) if n else np.zeros(1, dtype=np.int64)
    user_ids = users[indptr[:-1]].astype(np.int64)
    del users
    return UserHistories(user_ids=user_ids, indptr=indptr, movie_ids=movies, ratings=ratings)


# --- the arithmetic (pure numpy) ---------------------------------------------------------------

def score_movies(model: ModelFactors, user_bias: float, user_factors: np.ndarray | None) -> np.ndarray:
    """global_mean + b_u + b_i + p_u . q_i for every movie of the model (float64; the inner product in
    float32 as the FLOAT[k] arrays store it, like DuckDB's array_inner_product).

    One user's matrix-vector product goes through einsum, not BLAS: a multi-threaded BLAS spins up its
    threads for it, which costs more than the product (p95 6 ms instead of 0.16 ms for 17,770 x 50 on a
    busy 2-core machine)."""
    scores = (model.global_mean + float(user_bias)) + model.movie_bias
    if model.k and user_factors is not None and len(user_factors):
        dots = np.einsum("ij,j->i", model.movie_factors, np.asarray(user_factors, dtype=np.float32))
        scores = scores + dots.astype(np.float64)
    return scores


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest finite scores, best first; equal scores by the smaller index. Fewer
    than k when fewer are finite (excluded entries are -inf)."""
    scores = np.asarray(scores)
    n_finite = int(np.isfinite(scores).sum())
    k = min(int(k), n_finite)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    kth = scores[part].min()
    candidates = np.flatnonzero(scores >= kth)  # every tie at the cut, then order (score desc, index)
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order[:k]].astype(np.int64)


def top_k_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise `top_k` of a (users x movies) block: (indices (rows, k), valid (rows, k)). Rows with a tie
    at the cut or with fewer than k finite scores are redone one by one with `top_k`."""
    n_rows, n = scores.shape
    k = min(int(k), n)
    if k <= 0 or n_rows == 0:
        return np.zeros((n_rows, 0), dtype=np.int64), np.zeros((n_rows, 0), dtype=bool)
    # the k largest end up in the last k columns (no negated copy of the block)
    part = np.argpartition(scores, n - k, axis=1)[:, n - k:] if k < n else np.tile(np.arange(n), (n_rows, 1))
    values = np.take_along_axis(scores, part, axis=1)
    kth = values.min(axis=1)
    order = np.lexsort((part, -values), axis=1)
    top = np.take_along_axis(part, order, axis=1).astype(np.int64)
    redo = ~np.isfinite(kth) | ((scores >= kth[:, None]).sum(axis=1) > k)
    valid = np.ones((n_rows, k), dtype=bool)
    for r in np.flatnonzero(redo):
        best = top_k(scores[r], k)
        top[r, :] = 0
        top[r, :len(best)] = best
        valid[r, :] = False
        valid[r, :len(best)] = True
    return top, valid


def pick_reasons(model: ModelFactors, recommended: np.ndarray, liked: np.ndarray) -> np.ndarray:
    """For each recommended movie index, the position in `liked` (movie indices in id order) of the most
    similar liked movie by cosine of the factors, or -1 when no liked movie has a positive similarity
    (or the model has no factors). Equal similarity: the first, i.e. the smaller movie_id."""
    out = np.full(len(recommended), -1, dtype=np.int64)
    if model.k == 0 or len(liked) == 0 or len(recommended) == 0:
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
    user step would give this user, chosen by the hyperparameters in model_runs.

    - Biased MF (ALS; `reg`, `reg_bias`, `weighted_reg`, else BiasedMF's defaults): the ridge
      regression of its user step, the bias as an extra column of ones,

          [b_u, p_u] = (X^T X + n^a diag(reg_bias, reg, ..., reg))^-1 X^T (r - mu - b_i),  X = [1 | Q_rated]

      with a = 1 under `weighted_reg` (ALS-WR), else 0. A model whose user biases are all 0 gets no
      bias column.
    - Bias baseline and truncated SVD (`reg_user`): b_u = sum(r - mu - b_i) / (reg_user + n), then for
      the SVD the classic folding-in projection of the residuals e = r - mu - b_u - b_i onto the movie
      factors, p_u = (Q^T Q)^-1 Q_rated^T e_rated (Q = V sqrt(S), so Q^T Q = S and this is
      e V S^-1/2, exactly how the SVD's own user rows relate to the residual matrix).
    - Implicit ALS (`unobserved_weight` alpha, `reg`, `reg_exponent` e): every rated movie is a positive,

          p_u = (Q_rated^T Q_rated + alpha Q^T Q + reg (n + alpha n_movies)^e I)^-1 Q_rated^T 1
    """
    hyper = model.hyperparameters or {}
    movie_index = np.asarray(movie_index, dtype=np.int64)
    ratings = np.asarray(ratings, dtype=np.float64)
    n = len(movie_index)
    k = model.k
    if n == 0:
        return 0.0, np.zeros(k, dtype=np.float32)
    q = model.movie_factors[movie_index].astype(np.float64)
    if "unobserved_weight" in hyper:
        if k == 0:
            return 0.0, np.zeros(0, dtype=np.float32)
        alpha = float(hyper["unobserved_weight"])
        reg = float(hyper.get("reg", 0.0)) * (n + alpha * len(model.movie_ids)) ** float(hyper.get("reg_exponent", 1.0))
        a = q.T @ q + alpha * model.gram() + reg * np.eye(k)
        p = np.linalg.solve(a, q.sum(axis=0))
        return 0.0, p.astype(np.float32)
    target = ratings - model.global_mean - model.movie_bias[movie_index]
    if "reg_user" in hyper:
        bias = float(target.sum() / (float(hyper["reg_user"]) + n)) if model.has_user_bias else 0.0
        if k == 0:
            return bias, np.zeros(0, dtype=np.float32)
        p = np.linalg.lstsq(model.gram(), q.T @ (target - bias), rcond=None)[0]
        return bias, p.astype(np.float32)
    defaults = _biased_mf_defaults()
    reg = float(hyper.get("reg", defaults["reg"]))
    reg_bias = float(hyper.get("reg_bias", defaults["reg_bias"] if defaults["reg_bias"] is not None else reg))
    scale = float(n) if bool(hyper.get("weighted_reg", defaults["weighted_reg"])) else 1.0
    columns, penalty = [], []
    if model.has_user_bias:
        columns.append(np.ones((n, 1)))
        penalty.append(reg_bias)
    if k:
        columns.append(q)
        penalty.extend([reg] * k)
    if not columns:
        return 0.0, np.zeros(k, dtype=np.float32)
    x = np.hstack(columns)
    a = x.T @ x + np.diag(np.asarray(penalty) * scale)
    w = np.linalg.solve(a, x.T @ target)
    bias = float(w[0]) if model.has_user_bias else 0.0
    factors = w[1:] if model.has_user_bias else w
    return bias, factors.astype(np.float32)


def _biased_mf_defaults() -> dict:
    """BiasedMF's own defaults of reg, reg_bias and weighted_reg (read from its signature, so they cannot
    drift apart), for a model_runs row that does not name them."""
    import inspect

    from movierec.models.mf import BiasedMF

    parameters = inspect.signature(BiasedMF.__init__).parameters
    return {name: parameters[name].default for name in ("reg", "reg_bias", "weighted_reg")}


def reason_text(catalog: Catalog, catalog_index: int, rating: float, rating_max: float | None) -> str:
    """'because you rated Heat (1995) 5/5', as user_recommendations writes it."""
    scale = "" if rating_max is None else f"/{_g(rating_max)}"
    return f"because you rated {catalog.label(catalog_index)} {_g(rating)}{scale}"


def popular_reason(rating_count: int) -> str:
    return f"popular: rated by {int(rating_count):,} users"


# --- the service -------------------------------------------------------------------------------

@dataclass
class _Profile:
    """What is known about one user: their ratings (ids sorted) and, if the model has them, factors."""

    known: bool
    movie_ids: np.ndarray
    ratings: np.ndarray
    bias: float | None = None
    factors: np.ndarray | None = None


@dataclass
class _Snapshot:
    version: tuple
    loaded_at: float
    config: ServingConfig
    catalog: Catalog
    model_names: tuple[str, ...]
    models: dict = field(default_factory=dict)   # name -> ModelFactors
    users: dict = field(default_factory=dict)    # name -> UserFactorTable (preload only)
    similar_candidates: dict = field(default_factory=dict)  # name -> (movie -> catalog index, eligible mask)
    histories: UserHistories | None = None       # preload only


class Service:
    """Recommendations, similar movies, fold-in and title search from one warehouse.

    `preload=False` (default; library and CLI): each call opens a read-only connection, reads the
    user with parameterized SQL (user_factors, and serving_user_ratings, stored in user_id order so
    the lookup skips all but one row group) and closes it; the movie side is cached and reloaded
    when the file changes. A call costs one connection open (15-50 ms measured); a dbt build is
    blocked only during a call, and a call during a build raises `WarehouseUnavailable`.

    `preload=True` (the HTTP server): everything is read into memory in one read-only transaction
    and the connection is closed (about 4 bytes per rating plus, for every fitted model, 4k bytes
    per user and per movie), so any fitted model (`model=`) answers from memory. Calls then take
    about a millisecond and never touch the file, so `dbt build` runs while the server answers.
    Each call checks (at most every `reload_interval` seconds, one stat) whether the file changed;
    once it has stopped changing for `settle_seconds`, a background thread reloads and swaps the
    snapshot (if a writer still holds the file, it tries again later). Until then the previous
    snapshot keeps answering (`health()` says `stale`). The settling keeps the reload, which holds a
    read lock for a few seconds at the Netflix size, out of the gap between two writers (`movierec
    ingest` then `dbt build`), where it would make the second fail to open the file. Only when no
    snapshot could ever be loaded (the file is locked or not built at start) do calls raise
    `WarehouseUnavailable`.
    """

    def __init__(self, warehouse: str | os.PathLike | None = None, *, preload: bool = False,
                 reload_interval: float = 1.0, settle_seconds: float = 5.0) -> None:
        self.path = warehouse_path(warehouse)
        self.preload = preload
        self.reload_interval = float(reload_interval)
        self._snapshot: _Snapshot | None = None
        self._lock = threading.RLock()
        self._reload_thread: threading.Thread | None = None
        self.settle_seconds = float(settle_seconds)
        self._last_check = 0.0
        self._changed = (None, 0.0)  # (file version last seen different from the snapshot's, since when)
        self.last_reload_error: str | None = None

    # -- public API ---------------------------------------------------------------------------------

    def recommend(self, user_id: int, k: int | None = None, model: str | None = None) -> Recommendations:
        """Top-k for a known user (`cold_start` and the popularity fallback for anyone else)."""
        with self._session() as (snap, con):
            k = self._k(k, snap.config.recommendations_k)
            name = self._model_name(snap, model)
            uid = _as_int64(user_id)
            profile = self._profile(snap, con, name, uid)
            return self._recommend(snap, name, uid, profile, k)

    def fold_in(self, ratings: Mapping[int, float], k: int | None = None, model: str | None = None) -> Recommendations:
        """Top-k for a new user given as {movie_id: rating}, without refitting: their bias and factors are
        solved against the fixed movie factors (`fold_in_user`). Movies missing from the catalog raise
        `InvalidRequest` naming them; catalog movies the model has no factors for are excluded from the
        list but otherwise ignored (`ignored_movie_ids`)."""
        with self._session() as (snap, con):
            k = self._k(k, snap.config.recommendations_k)
            name = self._model_name(snap, model)
            movie_ids, values = self._validate_ratings(snap, ratings)
            if name is None:
                profile = _Profile(known=False, movie_ids=movie_ids, ratings=values)
                return self._cold(snap, None, profile, k, "no factor model has been fitted")
            factors = self._model(snap, con, name)
            index = factors.index(movie_ids)
            known = index >= 0
            ignored = [int(m) for m in movie_ids[~known]]
            profile = _Profile(known=True, movie_ids=movie_ids, ratings=values)
            if int(known.sum()) < snap.config.min_user_ratings:
                result = self._cold(snap, None, profile, k,
                                    f"fewer than {snap.config.min_user_ratings} rated movies known to {name}")
            else:
                profile.bias, profile.factors = fold_in_user(factors, index[known], values[known])
                result = self._personal(snap, factors, None, profile, k)
            return replace(result, ignored_movie_ids=ignored)

    def similar(self, movie_id: int, k: int | None = None, model: str | None = None) -> SimilarMovies:
        """The k movies with the most similar factors (cosine) among movies with enough ratings.
        Unknown movie: `UnknownMovie`. A catalog movie without factors: an empty list with a note."""
        with self._session() as (snap, con):
            k = self._k(k, snap.config.similar_movies_k)
            name = self._model_name(snap, model)
            mid = _as_int64(movie_id)
            c = -1 if mid is None else int(snap.catalog.index([mid])[0])
            if c < 0:
                raise UnknownMovie(f"movie {movie_id} is not in the catalog")
            movie = snap.catalog.movie(c)
            if name is None:
                return SimilarMovies(movie.movie_id, movie.title, movie.release_year, None, [],
                                     "no factor model has been fitted")
            factors = self._model(snap, con, name)
            i = int(factors.index([mid])[0])
            if factors.k == 0:
                return SimilarMovies(movie.movie_id, movie.title, movie.release_year, name, [],
                                     f"{name} has no latent factors (bias-only): no similarity to compute")
            if i < 0 or not factors.has_direction[i]:
                return SimilarMovies(movie.movie_id, movie.title, movie.release_year, name, [],
                                     f"{name} has no factors for this movie")
            items = self._similar_items(snap, factors, i, k)
            return SimilarMovies(movie.movie_id, movie.title, movie.release_year, name, items)

    def search_movies(self, text: str, limit: int = 20) -> list[Movie]:
        """Movies whose title contains `text` (case-insensitive), best matches first."""
        if not isinstance(text, str):
            raise InvalidRequest("search text must be a string")
        limit = self._k(limit, 20)
        with self._session() as (snap, _):
            return snap.catalog.search(text, limit)

    def movie(self, movie_id: int) -> Movie:
        with self._session() as (snap, _):
            mid = _as_int64(movie_id)
            c = -1 if mid is None else int(snap.catalog.index([mid])[0])
            if c < 0:
                raise UnknownMovie(f"movie {movie_id} is not in the catalog")
            return snap.catalog.movie(c)

    def models(self) -> list[str]:
        with self._session() as (snap, _):
            return list(snap.model_names)

    def health(self) -> dict:
        """Status of the warehouse as this service sees it; raises `WarehouseUnavailable` when nothing
        can be served."""
        with self._session() as (snap, _):
            info = {
                "status": "ok",
                "warehouse": str(self.path),
                "mode": "preload" if self.preload else "per-call",
                "model_name": snap.config.model_name,
                "requested_model_name": snap.config.requested_model_name,
                "is_requested_model": snap.config.is_requested_model,
                "movies": len(snap.catalog.movie_ids),
                "loaded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(snap.loaded_at)),
                "stale": self.is_stale(),
                "last_reload_error": self.last_reload_error,
            }
            if snap.histories is not None:
                info["users"] = len(snap.histories.user_ids)
            return info

    def is_stale(self) -> bool:
        """True when the file has changed since the snapshot was read (a rebuild is running or done)."""
        snap = self._snapshot
        if snap is None:
            return False
        try:
            return _file_version(self.path) != snap.version
        except OSError:
            return True

    def refresh(self) -> None:
        """Reload now (synchronously) if the file changed; raises `WarehouseUnavailable` if it cannot."""
        if self.preload:
            snap = self._snapshot
            if snap is None or self.is_stale():
                self._swap(self._load_preloaded())
        else:
            with self._session():
                pass

    def close(self) -> None:
        """Drop the cached data (no connection is ever kept open between calls)."""
        with self._lock:
            self._snapshot = None

    def __enter__(self) -> "Service":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[tuple[_Snapshot, duckdb.DuckDBPyConnection | None]]:
        """(snapshot, connection): a fresh read-only connection per call in per-call mode, none in preload
        mode (unless a model must be loaded lazily: see `_model`)."""
        if self.preload:
            yield self._current_preloaded(), None
            return
        with self._connection() as con:
            version = _file_version(self.path)
            with self._lock:
                snap = self._snapshot
                if snap is None or snap.version != version:
                    snap = self._snapshot = self._read_snapshot(con, version)
            yield snap, con

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        try:
            con = connect(self.path, read_only=True)
        except FileNotFoundError as exc:
            raise WarehouseUnavailable(str(exc)) from exc
        except duckdb.Error as exc:
            raise WarehouseUnavailable(_explain(exc, self.path)) from exc
        try:
            yield con
        except duckdb.CatalogException as exc:
            raise WarehouseUnavailable(f"the warehouse {self.path} lacks a serving table ({_first_line(exc)}): "
                                       "run `dbt build` first") from exc
        except duckdb.IOException as exc:
            raise WarehouseUnavailable(_explain(exc, self.path)) from exc
        finally:
            con.close()

    def _read_snapshot(self, con, version) -> _Snapshot:
        config = ServingConfig.read(con)
        catalog = read_catalog(con)
        names = tuple(r[0] for r in con.execute(
            "select distinct model_name from movie_factors order by model_name").fetchall())
        snap = _Snapshot(version=version, loaded_at=time.time(), config=config, catalog=catalog, model_names=names)
        if config.model_name is not None:
            snap.models[config.model_name] = read_model_factors(con, config.model_name)
        return snap

    def _load_preloaded(self) -> _Snapshot:
        with self._connection() as con:
            con.execute("begin transaction")  # one consistent view of every table
            version = _file_version(self.path)
            snap = self._read_snapshot(con, version)
            snap.histories = read_user_histories(con)
            # Every fitted model, not only the serving one: a `?model=` request must not need the file,
            # which a rebuild may hold for minutes. Costs the models' factor tables in memory.
            for name in snap.model_names:
                if name not in snap.models:
                    snap.models[name] = read_model_factors(con, name)
                snap.users[name] = read_user_factor_table(con, name)
            con.execute("commit")
            return snap

    def _swap(self, snap: _Snapshot) -> None:
        with self._lock:
            self._snapshot = snap
            self.last_reload_error = None

    def _current_preloaded(self) -> _Snapshot:
        snap = self._snapshot
        if snap is None:
            with self._lock:
                if self._snapshot is None:
                    self._last_check = time.monotonic()
                    self._snapshot = self._load_preloaded()  # raises WarehouseUnavailable when it cannot
                return self._snapshot
        now = time.monotonic()
        if now - self._last_check >= self.reload_interval:
            self._last_check = now
            try:
                version = _file_version(self.path)
            except OSError:  # removed (make clean): keep answering from memory
                version = snap.version
            if version == snap.version:
                self._changed = (None, now)
            elif version != self._changed[0]:
                self._changed = (version, now)  # still changing: wait for it to settle
            elif (now - self._changed[1] >= self.settle_seconds
                  and (self._reload_thread is None or not self._reload_thread.is_alive())):
                self._reload_thread = threading.Thread(target=self._background_reload, daemon=True,
                                                       name="movierec-reload")
                self._reload_thread.start()
        return snap

    def _background_reload(self) -> None:
        try:
            self._swap(self._load_preloaded())
        except Exception as exc:  # keep serving the previous snapshot; retried at the next check
            self.last_reload_error = f"{type(exc).__name__}: {_first_line(exc)}"

    def _model(self, snap: _Snapshot, con, name: str) -> ModelFactors:
        factors = snap.models.get(name)
        if factors is None:
            if con is None:
                with self._connection() as fresh:
                    factors = read_model_factors(fresh, name)
                    snap.users[name] = read_user_factor_table(fresh, name)
            else:
                factors = read_model_factors(con, name)
            snap.models[name] = factors
        return factors

    def _profile(self, snap: _Snapshot, con, name: str | None, user_id: int | None) -> _Profile:
        empty = np.zeros(0, dtype=np.int64)
        if user_id is None:
            return _Profile(False, empty, np.zeros(0))
        if snap.histories is not None:  # preloaded
            found = snap.histories.get(user_id)
            if found is None:
                return _Profile(False, empty, np.zeros(0))
            profile = _Profile(True, *found)
            if name is not None:
                self._model(snap, con, name)
                users = snap.users[name]
                i = int(_index_of(users.user_ids, [user_id])[0])
                if i >= 0:
                    profile.bias, profile.factors = float(users.bias[i]), users.factors[i]
            return profile
        found = con.execute("select movie_id, rating from serving_user_ratings where user_id = ? order by movie_id",
                            [user_id]).fetchnumpy()
        if len(found["movie_id"]) == 0:
            return _Profile(False, empty, np.zeros(0))
        profile = _Profile(True, np.asarray(found["movie_id"], dtype=np.int64),
                           np.asarray(found["rating"], dtype=np.float64))
        if name is not None:
            factors = self._model(snap, con, name)
            found = con.execute("select bias, factors from user_factors where model_name = ? and user_id = ?",
                                [name, user_id]).fetchone()
            if found is not None:
                profile.bias = float(found[0] or 0.0)
                profile.factors = (np.zeros(factors.k, dtype=np.float32) if found[1] is None
                                   else np.asarray(found[1], dtype=np.float32))
        return profile

    # -- answering ----------------------------------------------------------------------------------

    def _recommend(self, snap: _Snapshot, name: str | None, user_id: int | None, profile: _Profile,
                   k: int) -> Recommendations:
        config = snap.config
        if not profile.known:
            return self._cold(snap, user_id, profile, k, "unknown user")
        if name is None:
            return self._cold(snap, user_id, profile, k, "no factor model has been fitted")
        if len(profile.movie_ids) < config.min_user_ratings:
            return self._cold(snap, user_id, profile, k, f"fewer than {config.min_user_ratings} ratings")
        if profile.bias is None:
            return self._cold(snap, user_id, profile, k, f"user not in model {name}")
        return self._personal(snap, snap.models[name], user_id, profile, k)

    def _personal(self, snap: _Snapshot, model: ModelFactors, user_id: int | None, profile: _Profile,
                  k: int) -> Recommendations:
        config, catalog = snap.config, snap.catalog
        scores = score_movies(model, profile.bias or 0.0, profile.factors)
        seen = model.index(profile.movie_ids)
        scores[seen[seen >= 0]] = -np.inf
        best = top_k(scores, k)
        liked_mask = (profile.ratings >= config.reason_min_rating)
        liked = seen[liked_mask]
        liked_ratings = profile.ratings[liked_mask]
        order = np.argsort(liked, kind="stable")
        liked, liked_ratings = liked[order], liked_ratings[order]
        keep = liked >= 0
        liked, liked_ratings = liked[keep], liked_ratings[keep]
        reasons = pick_reasons(model, best, liked)
        best_ids = model.movie_ids[best]
        catalog_index = catalog.index(best_ids)
        reason_catalog = catalog.index(model.movie_ids[liked]) if len(liked) else np.zeros(0, dtype=np.int64)
        items = []
        for rank, (i, c, r) in enumerate(zip(best, catalog_index, reasons), start=1):
            reason = reason_id = None
            if r >= 0:
                reason_id = int(model.movie_ids[liked[r]])
                rc = int(reason_catalog[r])
                reason = (reason_text(catalog, rc, float(liked_ratings[r]), config.rating_max) if rc >= 0 else
                          f"because you rated movie {reason_id} {_g(float(liked_ratings[r]))}")
            items.append(Recommendation(
                rank=rank, movie_id=int(model.movie_ids[i]),
                title=catalog.titles[c] if c >= 0 else None,
                release_year=catalog.release_years[c] if c >= 0 else None,
                score=float(scores[i]), reason=reason, reason_movie_id=reason_id))
        return Recommendations(user_id=user_id, model_name=model.model_name, cold_start=False,
                               cold_start_reason=None, rating_count=len(profile.movie_ids), items=items)

    def _cold(self, snap: _Snapshot, user_id: int | None, profile: _Profile, k: int, why: str) -> Recommendations:
        catalog = snap.catalog
        seen = set(int(m) for m in profile.movie_ids)
        items = []
        for c, score in zip(catalog.popular, catalog.popular_scores):
            movie_id = int(catalog.movie_ids[c])
            if movie_id in seen:
                continue
            items.append(Recommendation(
                rank=len(items) + 1, movie_id=movie_id, title=catalog.titles[c],
                release_year=catalog.release_years[c], score=float(score),
                reason=popular_reason(catalog.rating_counts[c]), reason_movie_id=None))
            if len(items) == k:
                break
        return Recommendations(user_id=user_id, model_name="popularity", cold_start=True, cold_start_reason=why,
                               rating_count=len(profile.movie_ids), items=items)

    def _similar_items(self, snap: _Snapshot, model: ModelFactors, i: int, k: int) -> list[SimilarMovie]:
        catalog, config = snap.catalog, snap.config
        cached = snap.similar_candidates.get(model.model_name)
        if cached is None:
            c_index = catalog.index(model.movie_ids)
            support = np.where(c_index >= 0, catalog.rating_counts[np.maximum(c_index, 0)], 0)
            cached = snap.similar_candidates[model.model_name] = (
                c_index, model.has_direction & (support >= config.similar_min_ratings))
        c_index, eligible = cached
        sims = np.einsum("ij,j->i", model.unit, model.unit[i]).astype(np.float64)  # not BLAS: see score_movies
        sims[~eligible] = -np.inf
        sims[i] = -np.inf
        best = top_k(sims, k)
        return [SimilarMovie(rank=rank, movie_id=int(model.movie_ids[j]),
                             title=catalog.titles[c_index[j]] if c_index[j] >= 0 else None,
                             release_year=catalog.release_years[c_index[j]] if c_index[j] >= 0 else None,
                             similarity=float(sims[j]))
                for rank, j in enumerate(best, start=1)]

    # -- validation ---------------------------------------------------------------------------------

    @staticmethod
    def _k(k, default: int) -> int:
        if k is None:
            return default
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= int(k) <= MAX_K:
            raise InvalidRequest(f"k must be a whole number from 1 to {MAX_K}, got {k!r}")
        return int(k)

    @staticmethod
    def _model_name(snap: _Snapshot, model: str | None) -> str | None:
        if model is None:
            return snap.config.model_name
        if model not in snap.model_names:
            raise InvalidRequest(f"unknown model {model!r}; fitted models: {', '.join(snap.model_names) or 'none'}")
        return model

    @staticmethod
    def _validate_ratings(snap: _Snapshot, ratings: Mapping[int, float]) -> tuple[np.ndarray, np.ndarray]:
        if not isinstance(ratings, Mapping):
            raise InvalidRequest("ratings must be a mapping {movie_id: rating}")
        if len(ratings) > MAX_FOLD_IN_RATINGS:
            raise InvalidRequest(f"at most {MAX_FOLD_IN_RATINGS} ratings, got {len(ratings)}")
        ids, values, bad_ids, bad_values = [], [], [], []
        low, high = snap.config.rating_min, snap.config.rating_max
        for movie_id, rating in ratings.items():
            mid = _as_int64(movie_id)
            try:
                value = float(rating)
            except (TypeError, ValueError):
                value = math.nan
            if mid is None:
                bad_ids.append(movie_id)
                continue
            if isinstance(rating, bool) or not math.isfinite(value) or (
                    low is not None and value < low) or (high is not None and value > high):
                bad_values.append(movie_id)
            ids.append(mid)
            values.append(value)
        if bad_values:
            raise InvalidRequest(f"ratings must be numbers from {_g(low)} to {_g(high)}; off the scale for movies "
                                 f"{_sorted_ids(bad_values)}")
        deduplicated = dict(zip(ids, values))  # "7" and "07" are one movie: the last rating counts
        movie_ids = np.asarray(list(deduplicated), dtype=np.int64)
        unknown = [int(m) for m in movie_ids[snap.catalog.index(movie_ids) < 0]] + bad_ids
        if unknown:
            raise InvalidRequest(f"unknown movie ids (not in the catalog): {_sorted_ids(unknown)}")
        order = np.argsort(movie_ids, kind="stable")
        return movie_ids[order], np.asarray(list(deduplicated.values()), dtype=np.float64)[order]


# --- module-level convenience ------------------------------------------------------------------

_default: dict[Path, Service] = {}


def default_service(warehouse: str | os.PathLike | None = None) -> Service:
    """A per-call `Service` for the warehouse (default: $MOVIEREC_WAREHOUSE), shared by the functions below."""
    path = warehouse_path(warehouse).resolve()
    if path not in _default:
        _default[path] = Service(path)
    return _default[path]


def recommend(user_id: int, k: int = 10, model: str | None = None, warehouse=None) -> Recommendations:
    """Top-k movies for a user (popularity fallback, `cold_start`, for unknown users)."""
    return default_service(warehouse).recommend(user_id, k, model)


def similar(movie_id: int, k: int = 10, model: str | None = None, warehouse=None) -> SimilarMovies:
    """The k movies most similar to `movie_id` (cosine of the serving model's factors)."""
    return default_service(warehouse).similar(movie_id, k, model)


def fold_in(ratings: Mapping[int, float], k: int = 10, model: str | None = None, warehouse=None) -> Recommendations:
    """Top-k for a new user's {movie_id: rating} without retraining (see `fold_in_user`)."""
    return default_service(warehouse).fold_in(ratings, k, model)


def search_movies(text: str, limit: int = 20, warehouse=None) -> list[Movie]:
    """Movies whose title contains `text`, case-insensitive."""
    return default_service(warehouse).search_movies(text, limit)


# --- the batch path (python engine of the serving marts) -----------------------------------------

BATCH_RECOMMENDATIONS_SCHEMA = pa.schema([
    ("model_name", pa.string()), ("user_id", pa.int32()), ("rank", pa.int32()), ("movie_id", pa.int32()),
    ("score", pa.float64()), ("reason_movie_id", pa.int32()), ("reason_rating", pa.float64())])
BATCH_SIMILAR_SCHEMA = pa.schema([
    ("model_name", pa.string()), ("movie_id", pa.int32()), ("rank", pa.int32()), ("similar_movie_id", pa.int32()),
    ("similarity", pa.float64())])


def serving_engine(con: duckdb.DuckDBPyConnection, config) -> str:
    """serving_config's recommendations_engine: sql or python (var `auto` resolved by the data's
    size). The batch dbt models return no rows when it is sql: SQL scores the serving marts."""
    return str(con.execute(f"select recommendations_engine from {_source(config)}").fetchone()[0])


def batch_user_recommendations(con: duckdb.DuckDBPyConnection, *, config, user_factors, movie_factors, user_ratings,
                               block_users: int = 1024, progress: bool = True) -> pa.Table:
    """Top-k and reasons for every user the serving model scores, as user_recommendations' model rows
    (model_name, user_id, rank, movie_id, score, reason_movie_id, reason_rating).

    Inputs are DuckDB relations (`dbt.ref(...)`) or table names. The users with at least
    `recommendations_min_user_ratings` ratings and factors in the model are taken in user_id order, in
    blocks of `block_users`: their ratings are read by a range of user_id (serving_user_ratings is
    stored in that order, so each read touches only its row groups), then one float32 GEMM
    (block x k) @ (k x movies) plus the movie biases, the rated movies set to -inf through the block's
    CSR, `top_k_rows` (argpartition; ties by smaller movie_id), and per user the reason (cosine against
    the liked movies). Memory: one block of scores (block x movies x 4 bytes, 73 MB at the Netflix
    size), every scored user's factors (4k bytes each) and the movie factors.
    """
    cfg = ServingConfig.read(con, _source(config))
    schema = BATCH_RECOMMENDATIONS_SCHEMA
    if cfg.model_name is None:
        return schema.empty_table()
    global_mean = float(con.execute(f"select global_mean from {_source(config)}").fetchone()[0] or 0.0)
    movie_table = con.execute(
        f"select movie_id, bias, factors from {_source(movie_factors)} where model_name = ? order by movie_id",
        [cfg.model_name]).to_arrow_table()
    model = ModelFactors(cfg.model_name, global_mean, {}, movie_table.column("movie_id").to_numpy().astype(np.int64),
                         np.nan_to_num(movie_table.column("bias").to_numpy(zero_copy_only=False).astype(np.float64)),
                         _factor_matrix(movie_table.column("factors")))
    movie_bias32 = model.movie_bias.astype(np.float32)
    q_t = np.ascontiguousarray(model.movie_factors.T)
    k = min(cfg.recommendations_k, len(model.movie_ids))
    users = con.execute(f"""
        select factors.user_id, factors.bias, factors.factors
        from {_source(user_factors)} as factors
        inner join (
            select user_id, count(*) as rating_count
            from {_source(user_ratings)}
            group by user_id
        ) as counts
            on factors.user_id = counts.user_id
        where factors.model_name = ? and counts.rating_count >= ?
        order by factors.user_id""", [cfg.model_name, cfg.min_user_ratings]).to_arrow_table()
    all_user_ids = users.column("user_id").to_numpy().astype(np.int64)
    all_bias = np.nan_to_num(users.column("bias").to_numpy(zero_copy_only=False).astype(np.float64))
    all_factors = _factor_matrix(users.column("factors"), model.k)
    del users
    ratings_sql = f"""
        select user_id, movie_id, rating
        from {_source(user_ratings)}
        where user_id between ? and ?
        order by user_id, movie_id"""
    log = _Progress("batch_user_recommendations", len(all_user_ids), "users", enabled=progress)
    parts = []
    for start in range(0, len(all_user_ids), block_users):
        user_ids = all_user_ids[start:start + block_users]
        n = len(user_ids)
        block = con.execute(ratings_sql, [int(user_ids[0]), int(user_ids[-1])]).fetchnumpy()
        rated_users = np.asarray(block["user_id"], dtype=np.int64)
        keep = np.isin(rated_users, user_ids)  # the range also holds users who are not scored
        rated_users = rated_users[keep]
        seen_ids = np.asarray(block["movie_id"])[keep]
        seen_ratings = np.asarray(block["rating"], dtype=np.float64)[keep]
        rows = np.searchsorted(user_ids, rated_users)
        offsets = np.searchsorted(rows, np.arange(n + 1))
        user_bias = all_bias[start:start + n]
        p = all_factors[start:start + n]
        scores = p @ q_t if model.k else np.zeros((n, len(model.movie_ids)), dtype=np.float32)
        scores += movie_bias32
        seen = model.index(seen_ids)
        known = seen >= 0
        scores[rows[known], seen[known]] = -np.inf
        top, valid = top_k_rows(scores, k)
        del scores
        dots = (np.einsum("uf,ujf->uj", p, model.movie_factors[top]).astype(np.float64) if model.k
                else np.zeros(top.shape))
        final = (global_mean + user_bias[:, None]) + model.movie_bias[top] + dots
        reason_id = np.full(top.shape, -1, dtype=np.int64)
        reason_rating = np.full(top.shape, np.nan)
        if model.k:
            liked_all = known & (seen_ratings >= cfg.reason_min_rating)
            for u in range(n):
                lo, hi = offsets[u], offsets[u + 1]
                mask = liked_all[lo:hi]
                if not mask.any():
                    continue
                liked = seen[lo:hi][mask]
                picks = pick_reasons(model, top[u][valid[u]], liked)
                hit = picks >= 0
                cols = np.flatnonzero(valid[u])[hit]
                reason_id[u, cols] = model.movie_ids[liked[picks[hit]]]
                reason_rating[u, cols] = seen_ratings[lo:hi][mask][picks[hit]]
        ranks = np.cumsum(valid, axis=1)
        parts.append(pa.table({
            "model_name": pa.array([cfg.model_name] * int(valid.sum()), pa.string()),
            "user_id": pa.array(np.repeat(user_ids, top.shape[1]).reshape(n, -1)[valid], pa.int32()),
            "rank": pa.array(ranks[valid], pa.int32()),
            "movie_id": pa.array(model.movie_ids[top][valid], pa.int32()),
            "score": pa.array(final[valid], pa.float64()),
            "reason_movie_id": pa.array(reason_id[valid], pa.int32(), mask=reason_id[valid] < 0),
            "reason_rating": pa.array(reason_rating[valid], pa.float64(), mask=np.isnan(reason_rating[valid])),
        }, schema=schema))
        log.step(n)
    log.done()
    return pa.concat_tables(parts) if parts else schema.empty_table()


def batch_similar_movies(con: duckdb.DuckDBPyConnection, *, config, movie_factors, movies,
                         block_movies: int = 1024, progress: bool = True) -> pa.Table:
    """similar_movies' rows (model_name, movie_id, rank, similar_movie_id, similarity) with numpy: unit
    factor rows, one GEMM per block of movies against the eligible ones (at least
    `similar_movies_min_ratings` ratings in `movies`, i.e. dim_movies), self excluded, `top_k_rows`."""
    cfg = ServingConfig.read(con, _source(config))
    schema = BATCH_SIMILAR_SCHEMA
    if cfg.model_name is None:
        return schema.empty_table()
    table = con.execute(f"""
        select factors.movie_id, factors.factors, coalesce(movies.rating_count, 0) as rating_count
        from {_source(movie_factors)} as factors
        left join {_source(movies)} as movies
            on factors.movie_id = movies.movie_id
        where factors.model_name = ?
        order by factors.movie_id""", [cfg.model_name]).to_arrow_table()
    model = ModelFactors(cfg.model_name, 0.0, {}, table.column("movie_id").to_numpy().astype(np.int64),
                         np.zeros(table.num_rows), _factor_matrix(table.column("factors")))
    if model.k == 0:
        return schema.empty_table()
    anchors = np.flatnonzero(model.has_direction)
    eligible = model.has_direction & (table.column("rating_count").to_numpy() >= cfg.similar_min_ratings)
    candidates = np.flatnonzero(eligible)
    k = min(cfg.similar_movies_k, len(candidates))
    unit_t = np.ascontiguousarray(model.unit[candidates].T)
    position = np.full(len(model.movie_ids), -1)
    position[candidates] = np.arange(len(candidates))
    log = _Progress("batch_similar_movies", len(anchors), "movies", enabled=progress)
    parts = []
    for start in range(0, len(anchors), block_movies):
        block = anchors[start:start + block_movies]
        sims = model.unit[block] @ unit_t
        own = position[block]
        sims[np.flatnonzero(own >= 0), own[own >= 0]] = -np.inf
        top, valid = top_k_rows(sims, k)
        values = np.take_along_axis(sims, top, axis=1).astype(np.float64)
        n = len(block)
        parts.append(pa.table({
            "model_name": pa.array([cfg.model_name] * int(valid.sum()), pa.string()),
            "movie_id": pa.array(np.repeat(model.movie_ids[block], top.shape[1]).reshape(n, -1)[valid], pa.int32()),
            "rank": pa.array(np.cumsum(valid, axis=1)[valid], pa.int32()),
            "similar_movie_id": pa.array(model.movie_ids[candidates[top]][valid], pa.int32()),
            "similarity": pa.array(values[valid], pa.float64()),
        }, schema=schema))
        log.step(n)
    log.done()
    return pa.concat_tables(parts) if parts else schema.empty_table()


# --- helpers -----------------------------------------------------------------------------------

class _Progress:
    """A log line on stderr every 15 s (and at the end) with counts and rate."""

    def __init__(self, what: str, total: int, unit: str, enabled: bool = True, every: float = 15.0) -> None:
        self.what, self.total, self.unit, self.enabled, self.every = what, int(total), unit, enabled, every
        self.done_count = 0
        self.start = self.last = time.perf_counter()

    def step(self, n: int) -> None:
        self.done_count += n
        now = time.perf_counter()
        if self.enabled and now - self.last >= self.every:
            self.last = now
            self._print(now)

    def done(self) -> None:
        if self.enabled:
            self._print(time.perf_counter())

    def _print(self, now: float) -> None:
        seconds = max(now - self.start, 1e-9)
        print(f"[{self.what}] {self.done_count:,}/{self.total:,} {self.unit} in {seconds:.1f} s "
              f"({self.done_count / seconds:,.0f} {self.unit}/s)", file=sys.stderr, flush=True)


def _source(relation) -> str:
    """A FROM-clause item for a DuckDB relation (its SQL as a subquery) or a table name."""
    if isinstance(relation, str):
        return relation
    return f"({relation.sql_query()})"


def _factor_matrix(column, k: int | None = None) -> np.ndarray:
    """An Arrow FLOAT[k] column as an (n, k) float32 matrix; null rows become zeros; all null: (n, 0)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    n = len(column)
    if n == 0 or column.null_count == n:
        return np.zeros((n, k or 0), dtype=np.float32)
    size = column.type.list_size
    if column.null_count == 0:
        flat = column.flatten().to_numpy(zero_copy_only=False)
        return np.ascontiguousarray(flat.reshape(n, size), dtype=np.float32)
    out = np.zeros((n, size), dtype=np.float32)
    valid = ~np.asarray(column.is_null().to_numpy(zero_copy_only=False))
    out[valid] = column.flatten().to_numpy(zero_copy_only=False).reshape(-1, size)
    return out


def _index_of(sorted_ids: np.ndarray, ids) -> np.ndarray:
    ids = np.asarray(ids, dtype=np.int64)
    if len(sorted_ids) == 0:
        return np.full(len(ids), -1, dtype=np.int64)
    pos = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
    return np.where(sorted_ids[pos] == ids, pos, -1)


def _as_int64(value) -> int | None:
    """An id as a Python int if it is a whole number in int64 range, else None (an unknown id)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, np.integer)):
        value = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    else:
        return None
    return value if _INT64.min <= value <= _INT64.max else None


def _file_version(path: Path) -> tuple:
    """What changes when the warehouse is rewritten: the file's identity, size and time, and its WAL's."""
    st = os.stat(path)
    try:
        wal = os.stat(f"{path}.wal")
        wal_version = (wal.st_size, wal.st_mtime_ns)
    except FileNotFoundError:
        wal_version = None
    return (st.st_ino, st.st_size, st.st_mtime_ns, wal_version)


def _fetch_dicts(con, sql: str, params=None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _explain(exc: Exception, path: Path) -> str:
    text = str(exc)
    if "lock" in text.lower():
        return (f"the warehouse {path} is locked by another process (a `dbt build` or `movierec ingest` "
                f"writing to it); retry when it has finished ({_first_line(exc)})")
    if "different configuration" in text:
        return f"the warehouse {path} is open read-write in this process; close that connection first"
    return f"cannot open the warehouse {path}: {_first_line(exc)}"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _sorted_ids(ids) -> list:
    """Whole-number ids in numeric order, then anything else in text order (for error messages)."""
    return sorted(ids, key=lambda x: (0, int(x), "") if _as_int64(x) is not None else (1, 0, str(x)))


def _g(value) -> str:
    return "?" if value is None else ("%g" % value)
