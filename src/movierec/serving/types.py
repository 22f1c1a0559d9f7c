"""What the serving API answers with: the result types, the errors the HTTP API maps to statuses,
and the request limits (`MAX_K`, shared with the HTTP server, and `MAX_FOLD_IN_RATINGS`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

MAX_K = 100  # the longest list (k) or search result (limit) one request may ask for, as the HTTP API documents
MAX_FOLD_IN_RATINGS = 10_000


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
