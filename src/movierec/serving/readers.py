"""Reading the serving tables of the warehouse into numpy: serving_config, a model's movie side
(movie_factors, model_runs), the catalog (dim_movies, popular_movies), every user's factors
(user_factors) and every user's ratings (serving_user_ratings) as a compact CSR."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa

from movierec.arrays import index_of as _index_of
from movierec.serving.types import InvalidRequest, Movie, WarehouseUnavailable


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
    def read(cls, con: duckdb.DuckDBPyConnection, source: str = "serving_config") -> ServingConfig:
        row = _fetch_dicts(
            con,
            f"""
            select model_name, requested_model_name, is_requested_model, recommendations_k,
                recommendations_min_user_ratings, similar_movies_k, similar_movies_min_ratings,
                reason_min_rating, rating_min, rating_max
            from {source}""",
        )
        if len(row) != 1:
            raise WarehouseUnavailable(f"serving_config has {len(row)} rows, expected 1: run `dbt build`")
        r = row[0]
        return cls(
            model_name=r["model_name"],
            requested_model_name=r["requested_model_name"],
            is_requested_model=bool(r["is_requested_model"]),
            recommendations_k=int(r["recommendations_k"]),
            min_user_ratings=int(r["recommendations_min_user_ratings"]),
            similar_movies_k=int(r["similar_movies_k"]),
            similar_min_ratings=int(r["similar_movies_min_ratings"]),
            reason_min_rating=float(r["reason_min_rating"]),
            rating_min=None if r["rating_min"] is None else float(r["rating_min"]),
            rating_max=None if r["rating_max"] is None else float(r["rating_max"]),
        )


@dataclass
class ModelFactors:
    """The movie side of one fitted factor model: r(u, i) = global_mean + b_u + b_i + p_u . q_i.

    `movie_ids` is sorted, so a movie's index order is its id order (ties by smaller index are
    ties by smaller movie_id). Bias-only models have n_factors = 0 factor columns. `has_user_bias` says
    whether the model learns user biases at all (fold-in solves for one only if it does).
    """

    model_name: str
    global_mean: float
    hyperparameters: dict
    movie_ids: np.ndarray  # (n,) int64, sorted
    movie_bias: np.ndarray  # (n,) float64
    movie_factors: np.ndarray  # (n, n_factors) float32
    has_user_bias: bool = True
    unit: np.ndarray = field(init=False, repr=False)  # rows scaled to length 1 (zero rows stay 0)
    has_direction: np.ndarray = field(init=False, repr=False)  # rows with a non-zero factor vector
    _gram: np.ndarray | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        norms = np.linalg.norm(self.movie_factors.astype(np.float64), axis=1)
        self.has_direction = norms > 0
        safe = np.where(self.has_direction, norms, 1.0)
        self.unit = (self.movie_factors / safe[:, None]).astype(np.float32)

    @property
    def n_factors(self) -> int:
        """Factor columns stored (0 for bias-only models; zero-padded columns count)."""
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

    movie_ids: np.ndarray  # (n,) int64 sorted
    titles: list  # str | None per movie
    release_years: list  # int | None per movie
    labels: list  # dim_movies.label per movie: 'Title (1999)', defined once in SQL
    rating_counts: np.ndarray  # (n,) int64
    popular: np.ndarray  # catalog indices, most-rated first
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
        hits.sort(
            key=lambda i: (
                self._folded[i] != needle,
                not self._folded[i].startswith(needle),
                -int(self.rating_counts[i]),
                int(self.movie_ids[i]),
            )
        )
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


def read_model_factors(
    con: duckdb.DuckDBPyConnection,
    model_name: str,
    *,
    movie_factors: str = "movie_factors",
    user_factors: str = "user_factors",
    model_runs: str = "model_runs",
) -> ModelFactors:
    """Load a model's movie side (parameterized by model name)."""
    table = con.execute(
        f"select movie_id, bias, factors from {movie_factors} where model_name = ? order by movie_id", [model_name]
    ).to_arrow_table()
    if table.num_rows == 0:
        raise InvalidRequest(f"model {model_name!r} has no rows in movie_factors")
    runs = _fetch_dicts(
        con, f"select global_mean, hyperparameters from {model_runs} where model_name = ?", [model_name]
    )
    hyper = {}
    global_mean = 0.0
    if runs:
        global_mean = float(runs[0]["global_mean"] or 0.0)
        raw = runs[0]["hyperparameters"]
        hyper = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
    has_user_bias = con.execute(
        f"select coalesce(max(abs(bias)), 0) > 0 from {user_factors} where model_name = ?", [model_name]
    ).fetchone()[0]
    return ModelFactors(
        model_name=model_name,
        global_mean=global_mean,
        hyperparameters=hyper,
        movie_ids=table.column("movie_id").to_numpy().astype(np.int64),
        movie_bias=np.nan_to_num(table.column("bias").to_numpy(zero_copy_only=False).astype(np.float64)),
        movie_factors=_factor_matrix(table.column("factors")),
        has_user_bias=bool(has_user_bias),
    )


def read_catalog(con: duckdb.DuckDBPyConnection) -> Catalog:
    movies = con.execute(
        "select movie_id, title, release_year, label, rating_count from dim_movies order by movie_id"
    ).to_arrow_table()
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
    table = con.execute(
        "select user_id, bias, factors from user_factors where model_name = ? order by user_id", [model_name]
    ).to_arrow_table()
    return UserFactorTable(
        user_ids=table.column("user_id").to_numpy().astype(np.int64),
        bias=np.nan_to_num(table.column("bias").to_numpy(zero_copy_only=False).astype(np.float64)),
        factors=_factor_matrix(table.column("factors")),
    )


def read_user_histories(
    con: duckdb.DuckDBPyConnection, source: str = "serving_user_ratings", batch_rows: int = 1 << 20
) -> UserHistories:
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
        users[at : at + m], movies[at : at + m] = b_users, b_movies
        ratings[at : at + m] = batch.column(2).to_numpy(zero_copy_only=False)
        if ordered:
            step_u, step_m = np.diff(b_users), np.diff(b_movies)
            ordered = (b_users[0], b_movies[0]) > last and not (
                (step_u < 0).any() or ((step_u == 0) & (step_m <= 0)).any()
            )
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


def _source(relation) -> str:
    """A FROM-clause item for a DuckDB relation (its SQL as a subquery) or a table name."""
    if isinstance(relation, str):
        return relation
    return f"({relation.sql_query()})"


def _factor_matrix(column, n_factors: int | None = None) -> np.ndarray:
    """An Arrow FLOAT[n] column as an (rows, n) float32 matrix; null rows become zeros; all null: (rows, n_factors or 0)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    n = len(column)
    if n == 0 or column.null_count == n:
        return np.zeros((n, n_factors or 0), dtype=np.float32)
    size = column.type.list_size
    if column.null_count == 0:
        flat = column.flatten().to_numpy(zero_copy_only=False)
        return np.ascontiguousarray(flat.reshape(n, size), dtype=np.float32)
    out = np.zeros((n, size), dtype=np.float32)
    valid = ~np.asarray(column.is_null().to_numpy(zero_copy_only=False))
    out[valid] = column.flatten().to_numpy(zero_copy_only=False).reshape(-1, size)
    return out


def _fetch_dicts(con, sql: str, params=None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]
