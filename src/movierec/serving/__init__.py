"""Serving recommendations: a user's top-N, similar movies, a new user folded in, title search.

Built on the warehouse's factor tables (user_factors, movie_factors, model_runs) and the serving
marts (serving_config, serving_user_ratings, popular_movies, dim_movies); numpy does the
arithmetic. One job per module:

- `types`: the result types, the errors the HTTP API maps to statuses, the limits (`MAX_K`);
- `readers`: the warehouse's serving tables read into numpy;
- `scoring`: scores, reasons and fold-in (each model's own `fold_in_stored`);
- `service`: `Service`, the answers (recommendations, fold-in, similar movies, search);
- `snapshot`: what `Service` read from the warehouse, its cache, the HTTP server's preloaded
  mode and its background reload;
- `batch`: the batch engine that dbt's Python models call (the `python` engine of the serving marts).

`Service` reads the warehouse in one of two ways. `preload=False` (the library, the CLI): each
call opens a read-only connection, looks the user up with parameterized SQL and closes it again;
the movie side (factors, titles, popularity) is cached until the file changes. `preload=True`
(the HTTP server): everything served, every user's factors and history included, is loaded in
one read-only transaction and the connection closed, so the server never holds the file while
it answers; when the file changes it reloads in the background and swaps. See `Service`.

From Python: `from movierec.serving import recommend, similar, fold_in, search_movies` (a shared
per-call `Service` per warehouse).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from movierec.arrays import top_k, top_k_rows
from movierec.ingest.parquet import spark_dir
from movierec.serving.batch import (
    BATCH_RECOMMENDATIONS_SCHEMA,
    BATCH_SIMILAR_SCHEMA,
    batch_similar_movies,
    batch_user_recommendations,
    serving_engine,
)
from movierec.serving.readers import (
    Catalog,
    ModelFactors,
    ServingConfig,
    UserFactorTable,
    UserHistories,
    read_catalog,
    read_model_factors,
    read_user_factor_table,
    read_user_histories,
)
from movierec.serving.scoring import fold_in_user, pick_reasons, popular_reason, reason_text, score_movies
from movierec.serving.service import Service
from movierec.serving.spark_tables import serve_from_spark
from movierec.serving.types import (
    MAX_FOLD_IN_RATINGS,
    MAX_K,
    InvalidRequest,
    Movie,
    Recommendation,
    Recommendations,
    ServingError,
    SimilarMovie,
    SimilarMovies,
    UnknownMovie,
    WarehouseUnavailable,
)
from movierec.warehouse import warehouse_path

__all__ = [
    "BATCH_RECOMMENDATIONS_SCHEMA",
    "BATCH_SIMILAR_SCHEMA",
    "MAX_FOLD_IN_RATINGS",
    "MAX_K",
    "Catalog",
    "InvalidRequest",
    "ModelFactors",
    "Movie",
    "Recommendation",
    "Recommendations",
    "Service",
    "ServingConfig",
    "ServingError",
    "SimilarMovie",
    "SimilarMovies",
    "UnknownMovie",
    "UserFactorTable",
    "UserHistories",
    "WarehouseUnavailable",
    "batch_similar_movies",
    "batch_user_recommendations",
    "default_service",
    "fold_in",
    "fold_in_user",
    "pick_reasons",
    "popular_reason",
    "read_catalog",
    "read_model_factors",
    "read_user_factor_table",
    "read_user_histories",
    "reason_text",
    "recommend",
    "score_movies",
    "search_movies",
    "serving_engine",
    "similar",
    "top_k",
    "top_k_rows",
]

_default: dict[Path | tuple, Service] = {}


def default_service(warehouse: str | os.PathLike | None = None) -> Service:
    """A per-call `Service` for the warehouse (default: $MOVIEREC_WAREHOUSE, or the Spark target's tables
    with MOVIEREC_SERVE_FROM=spark: movierec.serving.spark_tables), shared by the functions below."""
    if warehouse is None and serve_from_spark():
        key = ("spark", spark_dir().resolve())
        if key not in _default:
            _default[key] = Service()
        return _default[key]
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
