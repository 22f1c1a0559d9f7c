"""Genres: the planted, named structure of taste (the 18 genres, their taste directions, each
movie's genres and each user's liked and disliked genres)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from movierec.generate.shapes import _S_GENRES, _rng

# The fixed list of genres, each with its share of the movies' genre slots. Related genres
# form a family: they share part of their taste direction, and a movie's second and third
# genres come from the family of its first more often than not (Horror + Thriller, Kids + Anime).
GENRES: tuple[str, ...] = (
    "Drama",
    "Comedy",
    "Romance",
    "Musical",
    "Stand-Up",
    "Kids",
    "Anime",
    "Fantasy",
    "Action",
    "Adventure",
    "Sci-Fi",
    "War",
    "Thriller",
    "Horror",
    "Crime",
    "Mystery",
    "Documentary",
    "Western",
)
_GENRE_SHARES = np.array(
    [0.19, 0.15, 0.08, 0.02, 0.015, 0.04, 0.025, 0.03, 0.08, 0.035, 0.04, 0.025, 0.075, 0.05, 0.055, 0.025, 0.05, 0.025]
)
_GENRE_FAMILY = np.array([0, 1, 0, 0, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 6])
_N_FAMILIES = 7
_GENRE_COUNT_SHARES = (0.45, 0.38, 0.17)  # movies with 1, 2, 3 genres
_SAME_FAMILY = 0.65  # chance that a further genre of a movie comes from its first genre's family
_FAMILY_WEIGHT = 0.55  # share of a genre's taste direction common to its family (the rest is its own)
_WORLD_SEED = 19991111  # the genres' taste directions are one fixed world, whatever the sample seed

# Taste vectors: movie = genre direction + individual variation; user = sparse genre
# preferences (1-3 liked genres, 0-2 disliked ones) + individual variation.
_MOVIE_INDIVIDUAL = 0.55  # norm of a movie's individual part against 1 for its genres
_USER_INDIVIDUAL = 0.45  # norm of a user's individual part against about 1 for their genres
_LIKED_COUNT_SHARES = (0.40, 0.40, 0.20)  # users with 1, 2, 3 liked genres
_DISLIKED_COUNT_SHARES = (0.35, 0.45, 0.20)  # users with 0, 1, 2 disliked genres
_DISLIKE_WEIGHT = 0.7  # a disliked genre's (negative) preference, against a total of 1 for the liked ones

# Taste-driven selection (missing not at random): a share of each user's draws picks one of
# their liked genres and then a movie of that genre by popularity; the rest are drawn by
# popularity from the whole catalogue. A draw of a movie in a disliked genre is turned down
# with probability _DISLIKE_SKIP. So the chance that a user rates a movie grows with the
# movie's popularity and with how much the user is expected to like it.
_GENRE_DRAW_SHARE = 0.8
_TASTE_BUDGET = 0.25  # extra first-round draws per unit of genre share (fewer top-up rounds)
_DISLIKE_SKIP = 0.9


@dataclass(frozen=True)
class GenrePlan:
    """Each movie's genres, and each user's liked and disliked genres."""

    movie_genres: list[tuple[int, ...]]  # genre indexes of each movie, first = primary
    movie_mask: np.ndarray  # (n_movies,) int32 bit mask of the movie's genres
    liked: np.ndarray  # (n_users, 3) int8 liked genre indexes, -1 = none
    liked_cum: np.ndarray  # (n_users, 3) float32 cumulative weights of the liked genres (2.0 from the last one on)
    disliked_mask: np.ndarray  # (n_users,) int32 bit mask of the disliked genres


def genre_directions(k: int) -> np.ndarray:
    """(n_genres, k) unit taste directions: a family part plus a genre's own part."""
    rng = _rng(_WORLD_SEED, _S_GENRES)
    family = rng.standard_normal((_N_FAMILIES, k))
    own = rng.standard_normal((len(GENRES), k))
    family /= np.linalg.norm(family, axis=1, keepdims=True)
    own /= np.linalg.norm(own, axis=1, keepdims=True)
    mix = math.sqrt(_FAMILY_WEIGHT) * family[_GENRE_FAMILY] + math.sqrt(1 - _FAMILY_WEIGHT) * own
    return mix / np.linalg.norm(mix, axis=1, keepdims=True)


def draw_movie_genres(n_movies: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """1-3 distinct genres per movie: the first by genre share, the others mostly from its family."""
    shares = _GENRE_SHARES / _GENRE_SHARES.sum()
    counts = 1 + np.searchsorted(
        np.cumsum(_GENRE_COUNT_SHARES), rng.random(n_movies) * sum(_GENRE_COUNT_SHARES), side="right"
    )
    counts = np.minimum(counts, 3)
    u = rng.random((n_movies, 6))
    cum_all = np.cumsum(shares)
    out: list[tuple[int, ...]] = []
    for i in range(n_movies):
        first = int(min(np.searchsorted(cum_all, u[i, 0], side="right"), len(GENRES) - 1))
        chosen = [first]
        for j in range(1, int(counts[i])):
            weights = shares.copy()
            if u[i, 2 * j] < _SAME_FAMILY:
                weights = weights * (_GENRE_FAMILY == _GENRE_FAMILY[first])
            weights[chosen] = 0.0
            if weights.sum() <= 0:  # a family with no genre left: any other genre
                weights = shares.copy()
                weights[chosen] = 0.0
            cum = np.cumsum(weights / weights.sum())
            chosen.append(int(min(np.searchsorted(cum, u[i, 2 * j + 1], side="right"), len(GENRES) - 1)))
        out.append(tuple(chosen))
    return out


def draw_user_genres(n_users: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse genre preferences: (n_users, n_genres) float32 weights (liked ones positive and summing
    to 1, disliked ones -_DISLIKE_WEIGHT), the liked genres (n_users, 3, -1 = none) and their
    cumulative weights. Liked genres are drawn by genre share, disliked ones uniformly among the rest."""
    n_genres = len(GENRES)
    shares = _GENRE_SHARES / _GENRE_SHARES.sum()
    n_liked = 1 + np.searchsorted(np.cumsum(_LIKED_COUNT_SHARES), rng.random(n_users), side="right")
    n_disliked = np.searchsorted(np.cumsum(_DISLIKED_COUNT_SHARES), rng.random(n_users), side="right")
    # Distinct liked genres by share: Gumbel top-k on log shares; disliked: the next ones drawn uniformly.
    keys = np.log(shares)[None, :] - np.log(-np.log(rng.random((n_users, n_genres))))
    order = np.argpartition(-keys, 2, axis=1)[:, :3]  # the 3 largest keys, in no particular order
    liked = np.full((n_users, 3), -1, dtype=np.int8)
    weight = rng.uniform(0.5, 1.5, size=(n_users, 3)).astype(np.float32)
    for j in range(3):
        has = n_liked > j
        liked[has, j] = order[has, j]
        weight[~has, j] = 0.0
    weight /= weight.sum(axis=1, keepdims=True)
    prefs = np.zeros((n_users, n_genres), dtype=np.float32)
    rows = np.arange(n_users)
    for j in range(3):
        has = liked[:, j] >= 0
        prefs[rows[has], liked[has, j]] = weight[has, j]
    rest = np.argpartition(rng.random((n_users, n_genres)) + (prefs > 0), 1, axis=1)[:, :2]  # never a liked one
    for j in range(2):
        has = n_disliked > j
        prefs[rows[has], rest[has, j]] = -_DISLIKE_WEIGHT
    cum = np.cumsum(weight, axis=1).astype(np.float32)
    last = n_liked - 1  # the last liked genre takes every uniform from its start up (no rounding gap)
    cum[np.arange(3)[None, :] >= last[:, None]] = 2.0
    return prefs, liked, cum


def genre_mask(genres: Iterable[int]) -> int:
    mask = 0
    for g in genres:
        mask |= 1 << int(g)
    return mask


def _write_genres(path: Path, movie_genres: list[tuple[int, ...]]) -> int:
    """movie_genres.csv: ``movie_id,genre`` with a header, one line per movie and genre (the
    planted truth; not a Netflix Prize file)."""
    lines = ["movie_id,genre\n"]
    lines += [f"{i + 1},{GENRES[g]}\n" for i, genres in enumerate(movie_genres) for g in genres]
    data = "".join(lines).encode("ascii")
    path.write_bytes(data)
    return len(data)
