"""`Service`: recommendations, similar movies, fold-in and title search from one warehouse. What
it read, its cache and the HTTP server's background reload are `movierec.serving.snapshot`.

The rules are those of the SQL model user_recommendations, so the API and the table agree:

- score = global_mean + b_u + b_i + p_u . q_i (the predicted rating, unclipped; a preference
  score for ranking-only models), over the model's movies the user has not rated; equal scores
  by the smaller movie_id; ranks 1..k without gaps.
- reason: the movie the user rated at least `reason_min_rating` whose factors are most similar
  to the recommended movie's (cosine, positive only; equal similarity: smaller movie_id).
- cold start: users unknown to the model or with fewer than `recommendations_min_user_ratings`
  ratings get the most-rated movies they have not rated.
- similar movies: cosine of the factors, among movies with at least
  `similar_movies_min_ratings` ratings.
- fold-in: a new user's bias and factors from the model's own user step
  (`FactorModel.fold_in_stored` of the model's class) against the fixed movie factors.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from movierec.arrays import index_of as _index_of
from movierec.arrays import top_k
from movierec.serving.readers import (
    ModelFactors,
    read_model_factors,
    read_user_factor_table,
)
from movierec.serving.scoring import _g, fold_in_user, pick_reasons, popular_reason, reason_text, score_movies
from movierec.serving.snapshot import _Snapshot, _SnapshotSource
from movierec.serving.types import (
    MAX_FOLD_IN_RATINGS,
    MAX_K,
    InvalidRequest,
    Movie,
    Recommendation,
    Recommendations,
    SimilarMovie,
    SimilarMovies,
    UnknownMovie,
)

_INT64 = np.iinfo(np.int64)


@dataclass
class _Profile:
    """What is known about one user: their ratings (ids sorted) and, if the model has them, factors."""

    known: bool
    movie_ids: np.ndarray
    ratings: np.ndarray
    bias: float | None = None
    factors: np.ndarray | None = None


class Service(_SnapshotSource):
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
        solved against the fixed movie factors by the model's own user step (`fold_in_user`); a model
        no factor model class fitted raises `InvalidRequest`. Movies missing from the catalog raise
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
                result = self._cold(
                    snap, None, profile, k, f"fewer than {snap.config.min_user_ratings} rated movies known to {name}"
                )
            else:
                try:
                    profile.bias, profile.factors = fold_in_user(factors, index[known], values[known])
                except KeyError as exc:
                    raise InvalidRequest(f"model {name!r} cannot fold in a new user: {exc.args[0]}") from None
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
                return SimilarMovies(
                    movie.movie_id, movie.title, movie.release_year, None, [], "no factor model has been fitted"
                )
            factors = self._model(snap, con, name)
            i = int(factors.index([mid])[0])
            if factors.n_factors == 0:
                return SimilarMovies(
                    movie.movie_id,
                    movie.title,
                    movie.release_year,
                    name,
                    [],
                    f"{name} has no latent factors (bias-only): no similarity to compute",
                )
            if i < 0 or not factors.has_direction[i]:
                return SimilarMovies(
                    movie.movie_id, movie.title, movie.release_year, name, [], f"{name} has no factors for this movie"
                )
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
        found = con.execute(
            "select movie_id, rating from serving_user_ratings where user_id = ? order by movie_id", [user_id]
        ).fetchnumpy()
        if len(found["movie_id"]) == 0:
            return _Profile(False, empty, np.zeros(0))
        profile = _Profile(
            True, np.asarray(found["movie_id"], dtype=np.int64), np.asarray(found["rating"], dtype=np.float64)
        )
        if name is not None:
            factors = self._model(snap, con, name)
            found = con.execute(
                "select bias, factors from user_factors where model_name = ? and user_id = ?", [name, user_id]
            ).fetchone()
            if found is not None:
                profile.bias = float(found[0] or 0.0)
                profile.factors = (
                    np.zeros(factors.n_factors, dtype=np.float32)
                    if found[1] is None
                    else np.asarray(found[1], dtype=np.float32)
                )
        return profile

    # -- answering ----------------------------------------------------------------------------------

    def _recommend(
        self, snap: _Snapshot, name: str | None, user_id: int | None, profile: _Profile, k: int
    ) -> Recommendations:
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

    def _personal(
        self, snap: _Snapshot, model: ModelFactors, user_id: int | None, profile: _Profile, k: int
    ) -> Recommendations:
        config, catalog = snap.config, snap.catalog
        scores = score_movies(model, profile.bias or 0.0, profile.factors)
        seen = model.index(profile.movie_ids)
        scores[seen[seen >= 0]] = -np.inf
        best = top_k(scores, k)
        liked_mask = profile.ratings >= config.reason_min_rating
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
                # a rated movie missing from dim_movies is named as dim_movies.label names an untitled one
                label = catalog.label(rc) if rc >= 0 else f"movie {reason_id}"
                reason = reason_text(label, float(liked_ratings[r]), config.rating_max)
            items.append(
                Recommendation(
                    rank=rank,
                    movie_id=int(model.movie_ids[i]),
                    title=catalog.titles[c] if c >= 0 else None,
                    release_year=catalog.release_years[c] if c >= 0 else None,
                    score=float(scores[i]),
                    reason=reason,
                    reason_movie_id=reason_id,
                )
            )
        return Recommendations(
            user_id=user_id,
            model_name=model.model_name,
            cold_start=False,
            cold_start_reason=None,
            rating_count=len(profile.movie_ids),
            items=items,
        )

    def _cold(self, snap: _Snapshot, user_id: int | None, profile: _Profile, k: int, why: str) -> Recommendations:
        catalog = snap.catalog
        seen = set(int(m) for m in profile.movie_ids)
        items = []
        for c, score in zip(catalog.popular, catalog.popular_scores):
            movie_id = int(catalog.movie_ids[c])
            if movie_id in seen:
                continue
            items.append(
                Recommendation(
                    rank=len(items) + 1,
                    movie_id=movie_id,
                    title=catalog.titles[c],
                    release_year=catalog.release_years[c],
                    score=float(score),
                    reason=popular_reason(catalog.rating_counts[c]),
                    reason_movie_id=None,
                )
            )
            if len(items) == k:
                break
        return Recommendations(
            user_id=user_id,
            model_name="popularity",
            cold_start=True,
            cold_start_reason=why,
            rating_count=len(profile.movie_ids),
            items=items,
        )

    def _similar_items(self, snap: _Snapshot, model: ModelFactors, i: int, k: int) -> list[SimilarMovie]:
        catalog, config = snap.catalog, snap.config
        cached = snap.similar_candidates.get(model.model_name)
        if cached is None:
            c_index = catalog.index(model.movie_ids)
            support = np.where(c_index >= 0, catalog.rating_counts[np.maximum(c_index, 0)], 0)
            cached = snap.similar_candidates[model.model_name] = (
                c_index,
                model.has_direction & (support >= config.similar_min_ratings),
            )
        c_index, eligible = cached
        sims = np.einsum("ij,j->i", model.unit, model.unit[i]).astype(np.float64)  # not BLAS: see score_movies
        sims[~eligible] = -np.inf
        sims[i] = -np.inf
        best = top_k(sims, k)
        return [
            SimilarMovie(
                rank=rank,
                movie_id=int(model.movie_ids[j]),
                title=catalog.titles[c_index[j]] if c_index[j] >= 0 else None,
                release_year=catalog.release_years[c_index[j]] if c_index[j] >= 0 else None,
                similarity=float(sims[j]),
            )
            for rank, j in enumerate(best, start=1)
        ]

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
            if (
                isinstance(rating, bool)
                or not math.isfinite(value)
                or (low is not None and value < low)
                or (high is not None and value > high)
            ):
                bad_values.append(movie_id)
            ids.append(mid)
            values.append(value)
        if bad_values:
            raise InvalidRequest(
                f"ratings must be numbers from {_g(low)} to {_g(high)}; off the scale for movies "
                f"{_sorted_ids(bad_values)}"
            )
        deduplicated = dict(zip(ids, values))  # "7" and "07" are one movie: the last rating counts
        movie_ids = np.asarray(list(deduplicated), dtype=np.int64)
        unknown = [int(m) for m in movie_ids[snap.catalog.index(movie_ids) < 0]] + bad_ids
        if unknown:
            raise InvalidRequest(f"unknown movie ids (not in the catalog): {_sorted_ids(unknown)}")
        order = np.argsort(movie_ids, kind="stable")
        return movie_ids[order], np.asarray(list(deduplicated.values()), dtype=np.float64)[order]


# --- helpers -----------------------------------------------------------------------------------


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


def _sorted_ids(ids) -> list:
    """Whole-number ids in numeric order, then anything else in text order (for error messages)."""
    return sorted(ids, key=lambda x: (0, int(x), "") if _as_int64(x) is not None else (1, 0, str(x)))
