"""A deterministic synthetic dataset in the exact Netflix Prize file layout.

`generate(size, out_dir, seed)` writes the files the Kaggle copy of the Netflix Prize
data ships with, so that everything downstream (ingestion, dbt models, recommenders)
can run without the real data:

* ``combined_data_1.txt`` .. ``combined_data_4.txt``: ``<movie_id>:`` header lines, each
  followed by one ``<customer_id>,<rating>,<YYYY-MM-DD>`` line per rating; movies ascending,
  split into four contiguous movie ranges with about equal rating counts;
* ``movie_titles.csv``: ``movie_id,year,title``, latin-1, unquoted titles (some with commas
  and accented letters), some ``NULL`` years;
* ``probe.txt``: ``<movie_id>:`` then one ``<customer_id>`` per line, a subset of the rating
  pairs drawn from each user's most recent ratings;
* ``README.txt``: what this is, the seed, the size and the counts;
* ``movie_genres.csv``: ``movie_id,genre``, the planted genres. Not a Netflix Prize file: it
  is the truth to check what the models found (ingestion loads it as optional metadata).

The sample is built to show the properties the real data is known for: a long tail of
movie popularity, heavy-tailed user activity, rating volume and sign-ups growing over
1999-11-11 .. 2005-12-31, Netflix's marginal rating shares (more 4s than 5s, mean about 3.6)
and a latent taste structure (ratings are global mean + user bias + movie bias + user
factors . movie factors + noise, quantized to 1..5), so that matrix factorization
measurably beats a bias-only baseline.

The taste structure is named: every movie has 1-3 of 18 genres (GENRES), its factors are the
direction of its genres plus individual variation, its title uses its first genre's words, and
every user likes 1-3 genres and dislikes 0-2 (plus individual variation). Which movies a user
rates is not independent of taste (missing not at random): part of each user's draws go to
their liked genres, and most draws of a disliked genre are turned down, so top-N models that
learn taste beat popularity, as on real data.

It is built on numpy only. Everything is vectorized and processed in chunks: (user, movie)
pairs are drawn per user from movie popularity weights with an alias table (the whole
catalogue, or one liked genre's movies), de-duplicated
through sorted int64 keys and topped up to exact per-user counts; dates are per-user order
statistics, so the most recent ratings of a user are known without sorting; the text is
formatted as fixed-width 32-byte rows of four uint64 words (header, customer id, rating and
date) and a boolean mask that drops the padding. Every random draw comes from
``numpy.random.default_rng([seed, stream, chunk])`` with chunks defined by the data, so the
output is byte-identical for the same size and seed whatever the number of threads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np

__all__ = ["SampleShape", "SIZES", "GenerateSummary", "generate"]


# --------------------------------------------------------------------------------------
# Shapes and constants
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleShape:
    """How big a generated sample is: exact counts of users, movies and ratings."""

    n_users: int
    n_movies: int
    n_ratings: int


SIZES: dict[str, SampleShape] = {
    # seconds, for tests
    "tiny": SampleShape(n_users=1_000, n_movies=250, n_ratings=30_000),
    # the CLI default: about 1M ratings
    "demo": SampleShape(n_users=10_000, n_movies=4_000, n_ratings=1_000_000),
    # a tenth of the Netflix Prize: a tenth of the users but all 17,770 movies, so that the
    # item-side costs (EASE's movie x movie Gram, item kNN, movie factors) are those of full size
    "medium": SampleShape(n_users=48_019, n_movies=17_770, n_ratings=10_048_051),
    # exactly the Netflix Prize training data's shape
    "full": SampleShape(n_users=480_189, n_movies=17_770, n_ratings=100_480_507),
}

FIRST_DAY = dt.date(1999, 11, 11)
LAST_DAY = dt.date(2005, 12, 31)
N_DAYS = (LAST_DAY - FIRST_DAY).days + 1  # 2243
CUSTOMER_ID_MAX = 2_649_429  # the real customer ids lie in 1..2,649,429, with gaps

RATING_SHARES = (0.046, 0.101, 0.287, 0.336, 0.230)  # Netflix's 1..5 star shares
PROBE_SHARE = 0.014  # the real probe: 1,408,395 of 100,480,507 ratings
PROBE_MAX_PER_USER = 9  # the hold-out was (up to) each user's 9 most recent ratings
N_FACTORS = 12  # dimensions of the planted taste space (18 genre directions live in it)

# Random streams: each stage draws from default_rng([seed, stream, chunk...]).
_S_CUSTOMERS, _S_USERS, _S_MOVIES, _S_LATENT, _S_PAIRS = 1, 2, 3, 4, 5
_S_COVER, _S_THRESHOLDS, _S_RATINGS, _S_TITLES, _S_DAYS = 6, 7, 8, 9, 10
_S_GENRES, _S_PREFS = 11, 12

_MOVIE_BITS = 15  # movie index < 32768 fits in the low bits of a pair key
_CHUNK_RATINGS = 1_000_000  # rows per chunk in the numeric stages (arrays stay small: fewer page faults)
_TEXT_CHUNK_ROWS = 500_000  # rows per chunk when formatting text
_WORKERS = max(1, min(2, os.cpu_count() or 1))


@dataclass
class GenerateSummary:
    """What `generate` wrote."""

    size: str
    seed: int
    out_dir: Path
    n_users: int
    n_movies: int
    n_ratings: int
    n_probe: int
    files: list[Path] = field(default_factory=list)
    bytes_written: int = 0
    seconds: float = 0.0


def _rng(seed: int, *stream: int) -> np.random.Generator:
    """An independent, reproducible random generator for one stage (and chunk)."""
    return np.random.default_rng([seed, *stream])


T = TypeVar("T")


def _map_ordered(fn: Callable[[int], T], n: int, workers: int = _WORKERS) -> Iterable[T]:
    """`fn(0..n-1)` on a small thread pool (numpy releases the GIL), results in order."""
    if workers <= 1 or n <= 1:
        for i in range(n):
            yield fn(i)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(fn, range(n))


class _Progress:
    """Periodic progress lines on stderr (only when enabled)."""

    def __init__(self, enabled: bool, label: str) -> None:
        self.enabled = enabled
        self.label = label
        self.t0 = time.perf_counter()
        self._last = 0.0

    def note(self, message: str) -> None:
        if self.enabled:
            print(f"[{self.label} {time.perf_counter() - self.t0:6.1f}s] {message}", file=sys.stderr, flush=True)

    def step(self, stage: str, done: int, total: int, t_stage: float, *, force: bool = False) -> None:
        now = time.perf_counter()
        if not self.enabled or (not force and now - self._last < 2.0 and done < total):
            return
        self._last = now
        rate = done / max(now - t_stage, 1e-9)
        self.note(f"{stage}: {done:,}/{total:,} ({100 * done / max(total, 1):.0f}%, {rate / 1e6:.1f}M/s)")


# --------------------------------------------------------------------------------------
# Users: customer ids, sign-up days, activity
# --------------------------------------------------------------------------------------

# Growth rates over the whole date range (exp(rate * t / N_DAYS)): sign-ups, and each
# user's rating density from their sign-up on; earlier sign-ups also rate more. Tuned so
# that about half of the ratings fall in 2005 and a quarter in 2004, and new users per
# month grow over the years.
_SIGNUP_GROWTH = 2.2
_ACTIVITY_GROWTH = 0.5
_TENURE_EFFECT = 2.0  # log-activity per unit of tenure (share of the date range)


def customer_ids(n_users: int, seed: int) -> np.ndarray:
    """Distinct customer ids drawn from 1..2,649,429, in random order (user index -> id)."""
    rng = _rng(seed, _S_CUSTOMERS)
    ids = rng.choice(CUSTOMER_ID_MAX, size=n_users, replace=False) + 1
    return ids.astype(np.int32)


def signup_days(n_users: int, rng: np.random.Generator) -> np.ndarray:
    """Each user's first-rating day (0 = 1999-11-11), ascending; sign-ups grow exponentially.

    The user index is the sign-up order; user 0 signs up on the first day.
    """
    a = _SIGNUP_GROWTH
    v = rng.random(n_users)
    t = N_DAYS / a * np.log1p(v * math.expm1(a))  # inverse CDF of density ~ exp(a t / N_DAYS)
    days = np.sort(np.minimum(t.astype(np.int64), N_DAYS - 1))
    days[0] = 0
    return days


def user_activity(shape: SampleShape, signup: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ratings per user: heavy-tailed (lognormal, median well below the mean), at least 1,
    at most 70% of the movies (smoothly capped), earlier sign-ups somewhat more active, and
    summing exactly to ``shape.n_ratings``."""
    n_users, n_movies, n_ratings = shape.n_users, shape.n_movies, shape.n_ratings
    if not n_users <= n_ratings <= n_users * n_movies * 0.5:
        raise ValueError(f"cannot place {n_ratings} ratings for {n_users} users and {n_movies} movies")
    cap = 0.7 * n_movies
    tenure = 1.0 - signup / N_DAYS
    raw = np.exp(1.2 * rng.standard_normal(n_users) + _TENURE_EFFECT * (tenure - tenure.mean()))

    def counts(scale: float) -> np.ndarray:
        x = scale * raw
        x = x / (1.0 + (x / cap) ** 4) ** 0.25  # smooth cap
        return np.maximum(1, np.rint(x)).astype(np.int64)

    lo, hi = 1e-6, 1e6
    for _ in range(60):  # bisection on the scale so that the total is about right
        mid = math.sqrt(lo * hi)
        if counts(mid).sum() < n_ratings:
            lo = mid
        else:
            hi = mid
    n = counts(hi)
    # Fix the rounding difference one rating at a time on random users.
    diff = int(n.sum() - n_ratings)
    upper = int(cap)
    while diff != 0:
        if diff > 0:
            eligible = np.flatnonzero(n > 1)
        else:
            eligible = np.flatnonzero(n < upper)
        pick = rng.choice(eligible, size=min(abs(diff), eligible.size), replace=False)
        n[pick] -= int(np.sign(diff))
        diff = int(n.sum() - n_ratings)
    return n


# --------------------------------------------------------------------------------------
# Genres: the planted, named structure of taste
# --------------------------------------------------------------------------------------

# The fixed list of genres, each with its share of the movies' genre slots. Related genres
# form a family: they share part of their taste direction, and a movie's second and third
# genres come from the family of its first more often than not (Horror + Thriller, Kids + Anime).
GENRES: tuple[str, ...] = (
    "Drama", "Comedy", "Romance", "Musical", "Stand-Up", "Kids", "Anime", "Fantasy", "Action",
    "Adventure", "Sci-Fi", "War", "Thriller", "Horror", "Crime", "Mystery", "Documentary", "Western",
)
_GENRE_SHARES = np.array(
    [0.19, 0.15, 0.08, 0.02, 0.015, 0.04, 0.025, 0.03, 0.08,
     0.035, 0.04, 0.025, 0.075, 0.05, 0.055, 0.025, 0.05, 0.025]
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
    counts = 1 + np.searchsorted(np.cumsum(_GENRE_COUNT_SHARES), rng.random(n_movies) * sum(_GENRE_COUNT_SHARES),
                                 side="right")
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


# --------------------------------------------------------------------------------------
# Movies: popularity, sampling (user, movie) pairs
# --------------------------------------------------------------------------------------


_POPULARITY_SIGMA = 2.8  # lognormal spread of movie popularity
_POPULARITY_CAP = 1.0  # cap on a movie's expected draws, as a multiple of the number of users


def popularity_weights(shape: SampleShape, rng: np.random.Generator) -> np.ndarray:
    """Movie popularity (probabilities summing to 1) in movie-id order: lognormal, so that a
    few percent of the movies draw half of the ratings, with the top capped so that no movie
    expects more draws than there are users (after de-duplication the most rated movie is
    rated by about 40% of the users, as in Netflix)."""
    z = rng.standard_normal(shape.n_movies)
    w = np.exp(_POPULARITY_SIGMA * z)
    w /= w.sum()
    cap = _POPULARITY_CAP * shape.n_users / shape.n_ratings
    for _ in range(50):  # cap, renormalize, repeat until stable
        over = w > cap
        if not over.any():
            break
        w = np.minimum(w, cap)
        w /= w.sum()
    return w


def _alias_table(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias table for drawing indices with probabilities `p` in O(1) each."""
    n = p.size
    scaled = p * n
    prob = np.ones(n)
    alias = np.arange(n, dtype=np.int64)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = scaled[g] + scaled[s] - 1.0
        (small if scaled[g] < 1.0 else large).append(g)
    return prob, alias


_EXPLORATION = 0.6  # uniform share of draws for a user who rates the whole catalogue


def _exploration(n_u: np.ndarray, n_movies: int) -> np.ndarray:
    """Share of a user's draws taken uniformly over the catalogue rather than by popularity:
    heavy users dig deeper into the long tail (negligible shares are set to 0)."""
    share = _EXPLORATION * (np.minimum(n_u, n_movies) / n_movies) ** 2
    return np.where(share < 1e-3, 0.0, share)


def _draw_budget(n_u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """How many draws with replacement each user needs so that the expected number of
    distinct movies exceeds their rating count with some margin (Poisson approximation,
    tabulated on a grid of counts and interpolated)."""
    n_movies = weights.size
    grid = np.unique(np.rint(np.geomspace(1, max(2, int(n_u.max())), 64)))
    lam = _exploration(grid, n_movies)[:, None]
    p = lam / n_movies + (1.0 - lam) * weights[None, :]
    target = np.minimum(grid + 2.0 * np.sqrt(grid) + 1.0, grid + 0.5 * (n_movies - grid))
    lo = np.log(grid)
    hi = np.log(grid * 10.0 + 100.0 * n_movies)

    def distinct(log_m: np.ndarray) -> np.ndarray:
        return (-np.expm1(-np.exp(log_m)[:, None] * p)).sum(axis=1)

    for _ in range(40):
        mid = 0.5 * (lo + hi)
        ok = distinct(mid) >= target
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    ratio = np.exp(hi) / grid
    r = np.interp(np.log(n_u), np.log(grid), ratio)
    return np.maximum(n_u, np.ceil(r * n_u)).astype(np.int64)


@dataclass(frozen=True)
class _PairPlan:
    """Everything the per-chunk pair sampler needs (shared, read-only)."""

    n_u: np.ndarray  # ratings per user
    budget: np.ndarray  # draws per user in the first round
    explore: np.ndarray  # per-user share of uniform draws
    alias_prob: np.ndarray
    alias_idx: np.ndarray
    user_bounds: np.ndarray  # chunk c covers users [user_bounds[c], user_bounds[c+1])
    row_offsets: np.ndarray  # first row (user-major) of each user, plus the total
    genre_share: np.ndarray  # per-user share of draws taken from their liked genres
    genres: GenrePlan
    genre_offsets: np.ndarray  # genre g's movies are genre_movies[genre_offsets[g]:genre_offsets[g+1]]
    genre_movies: np.ndarray  # movies of each genre, concatenated
    genre_prob: np.ndarray  # alias table of each genre's popularity, concatenated
    genre_alias: np.ndarray  # (alias entries are movie indexes)


def _draw_keys(rng: np.random.Generator, plan: _PairPlan, local: np.ndarray, u0: int,
               draws: np.ndarray) -> np.ndarray:
    """`draws[i]` movie draws with replacement for chunk-local users `local[i]`, as int64
    keys ``local << 15 | movie``: by popularity, or (a user's genre share of them) by
    popularity within one of their liked genres; draws of a disliked genre are mostly
    turned down, so a user may get fewer keys than draws."""
    n_movies = plan.alias_prob.size
    total = int(draws.sum())
    r = rng.random(total) * n_movies
    slot = np.minimum(r.astype(np.int64), n_movies - 1)
    movie = np.where(r - slot < plan.alias_prob[slot], slot, plan.alias_idx[slot])
    users = np.repeat(u0 + local, draws)
    # Taste: a share of the draws goes to one of the user's liked genres.
    c = rng.random(total, dtype=np.float32)
    share = np.repeat(plan.genre_share[u0 + local], draws)
    rows = np.flatnonzero(c < share)
    if rows.size:
        # Which liked genre: the draw's own uniform, rescaled, against the user's cumulative weights
        # (per-user values repeated over the user's draws, then taken at the genre rows).
        u = c[rows] / share[rows]
        liked, cum = plan.genres.liked[u0 + local], plan.genres.liked_cum[u0 + local]
        second = u >= np.repeat(cum[:, 0], draws)[rows]
        third = u >= np.repeat(cum[:, 1], draws)[rows]
        g = np.where(third, np.repeat(liked[:, 2], draws)[rows],
                     np.where(second, np.repeat(liked[:, 1], draws)[rows], np.repeat(liked[:, 0], draws)[rows]))
        g = g.astype(np.intp)
        start = plan.genre_offsets[g]
        size = (plan.genre_offsets[g + 1] - start).astype(np.float32)
        r = rng.random(rows.size, dtype=np.float32) * size
        within = np.minimum(r.astype(np.int64), size.astype(np.int64) - 1)
        slot = start + within
        movie[rows] = np.where(r - within < plan.genre_prob[slot], plan.genre_movies[slot], plan.genre_alias[slot])
    share = plan.explore[u0 + local]
    explorers = share > 0
    if explorers.any():  # heavy users: some draws uniform over the catalogue instead
        rows = np.flatnonzero(np.repeat(explorers, draws))
        row_share = np.repeat(share[explorers], draws[explorers])
        c = rng.random(rows.size)
        hit = c < row_share
        movie[rows[hit]] = np.minimum((c[hit] / row_share[hit] * n_movies).astype(np.int64), n_movies - 1)
    # Distaste: most draws of a movie in a disliked genre are turned down.
    disliked = (plan.genres.movie_mask[movie] & np.repeat(plan.genres.disliked_mask[u0 + local], draws)) != 0
    rows = np.flatnonzero(disliked)
    keep = np.ones(total, dtype=np.bool_)
    keep[rows[rng.random(rows.size, dtype=np.float32) < _DISLIKE_SKIP]] = False
    users -= u0
    users <<= _MOVIE_BITS
    users |= movie
    return users[keep]


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort + neighbour compare; faster than np.unique's hashing here)."""
    keys = np.sort(keys)
    if keys.size == 0:
        return keys
    keep = np.empty(keys.size, dtype=np.bool_)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys[keep]


def _merge_new(keys: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """Sorted distinct `keys` plus the values of sorted distinct `extra` not already in them,
    sorted: the same result as _sorted_unique of both, without re-sorting `keys` (a stable sort
    of two sorted runs is a merge)."""
    if extra.size == 0 or keys.size == 0:
        return _sorted_unique(np.concatenate([keys, extra]))
    at = np.minimum(np.searchsorted(keys, extra), keys.size - 1)
    fresh = extra[keys[at] != extra]
    return np.sort(np.concatenate([keys, fresh]), kind="stable")


def _sample_pairs_chunk(seed: int, chunk: int, plan: _PairPlan) -> np.ndarray:
    """The movies of one chunk of users, user-major, in random order within each user:
    exactly ``n_u`` distinct movies per user, drawn by popularity (successive sampling)."""
    rng = _rng(seed, _S_PAIRS, chunk)
    u0, u1 = int(plan.user_bounds[chunk]), int(plan.user_bounds[chunk + 1])
    n_u = plan.n_u[u0:u1]
    n_local = u1 - u0
    local = np.arange(n_local, dtype=np.int64)
    keys = _sorted_unique(_draw_keys(rng, plan, local, u0, plan.budget[u0:u1]))
    for attempt in range(60):
        have = np.bincount(keys >> _MOVIE_BITS, minlength=n_local)
        short = np.flatnonzero(have < n_u)
        if short.size == 0:
            break
        deficit = (n_u[short] - have[short]).astype(np.float64)
        ratio = plan.budget[u0 + short] / n_u[short]
        # Taste-driven draws repeat movies more than popularity alone predicts: top up generously
        # (each round re-sorts the chunk's keys; surplus draws are cheap and dropped below).
        extra = np.ceil((deficit + 2.0 * np.sqrt(deficit) + 1.0) * ratio * 2.0 * 2.0 ** attempt).astype(np.int64)
        keys = _merge_new(keys, _sorted_unique(_draw_keys(rng, plan, short, u0, extra)))
    else:  # pragma: no cover - would need an absurd shape
        raise RuntimeError("could not draw enough distinct movies per user")
    # Shuffle within each user (random middle bits) and keep the first n_u of each.
    have = np.bincount(keys >> _MOVIE_BITS, minlength=n_local)
    noise = rng.integers(0, 1 << 24, size=keys.size, dtype=np.int64)
    user = keys >> _MOVIE_BITS
    keys = np.sort((user << (_MOVIE_BITS + 24)) | (noise << _MOVIE_BITS) | (keys & ((1 << _MOVIE_BITS) - 1)))
    start = np.cumsum(have) - have
    pos = np.arange(keys.size, dtype=np.int64) - np.repeat(start, have)
    keep = pos < np.repeat(n_u, have)
    return (keys[keep] & ((1 << _MOVIE_BITS) - 1)).astype(np.int16)


def _cover_all_movies(movies: np.ndarray, n_movies: int, rng: np.random.Generator) -> int:
    """Give every movie at least one rating: a movie nobody drew takes over a random pair
    of a much-rated movie (counts per user and in total are unchanged). Returns how many."""
    counts = np.bincount(movies, minlength=n_movies)
    missing = np.flatnonzero(counts == 0)
    if missing.size == 0:
        return 0
    donors: dict[int, None] = {}  # insertion-ordered set
    taken = counts.copy()
    while len(donors) < missing.size:
        for row in rng.integers(0, movies.size, size=4 * missing.size).tolist():
            m = int(movies[row])
            if taken[m] > 1 and row not in donors:
                taken[m] -= 1
                donors[row] = None
                if len(donors) == missing.size:
                    break
    movies[np.fromiter(donors, dtype=np.int64)] = missing.astype(movies.dtype)
    return int(missing.size)


# --------------------------------------------------------------------------------------
# Taste: the latent factor model and quantization to stars
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TasteModel:
    """score = user bias + movie bias + user factors . movie factors + noise."""

    user_bias: np.ndarray  # (n_users,) float32
    movie_bias: np.ndarray  # (n_movies,) float32
    user_factors: np.ndarray  # (k, n_users) float32
    movie_factors: np.ndarray  # (k, n_movies) float32
    noise_sd: float
    thresholds: np.ndarray = field(default_factory=lambda: np.zeros(4))  # score cut points for 1|2|3|4|5


# Scale of the score terms (in stars, before quantization). Tuned so that on the demo
# probe a biased matrix factorization beats the bias-only baseline by about as much as on
# Netflix (roughly 8-10% lower RMSE).
_USER_BIAS_SD = 0.40
_MOVIE_BIAS_SD = 0.40
_POPULARITY_BIAS = 0.15  # popular movies are rated a bit higher
_INTERACTION_SD = 0.60  # sd of user factors . movie factors
_NOISE_SD = 0.75


def taste_model(n_users: int, weights: np.ndarray, genres: GenrePlan, user_prefs: np.ndarray,
                rng: np.random.Generator) -> _TasteModel:
    """Draw the biases and factors (thresholds are fitted later on the actual pairs).

    A movie's factors are the direction of its genres plus individual variation; a user's are
    their genre preferences (liked genres positive, disliked ones negative) times the genre
    directions plus individual variation. Both are scaled so that user factors . movie factors
    has the standard deviation _INTERACTION_SD over random pairs. Popular movies get somewhat
    higher biases, as in Netflix."""
    n_movies = weights.size
    log_pop = np.log(weights)
    pop_z = (log_pop - log_pop.mean()) / (log_pop.std() + 1e-12)
    user_bias = _USER_BIAS_SD * rng.standard_normal(n_users)
    movie_bias = _MOVIE_BIAS_SD * rng.standard_normal(n_movies) + _POPULARITY_BIAS * pop_z
    directions = genre_directions(N_FACTORS)
    movie_dir = np.zeros((n_movies, N_FACTORS))
    for movie, movie_genres in enumerate(genres.movie_genres):
        movie_dir[movie] = directions[list(movie_genres)].sum(axis=0)
    movie_dir /= np.linalg.norm(movie_dir, axis=1, keepdims=True)
    scale = 1.0 / math.sqrt(N_FACTORS)
    movie_factors = movie_dir + _MOVIE_INDIVIDUAL * scale * rng.standard_normal((n_movies, N_FACTORS))
    user_factors = user_prefs.astype(np.float64) @ directions
    user_factors += _USER_INDIVIDUAL * scale * rng.standard_normal((n_users, N_FACTORS))
    # Scale the interaction to _INTERACTION_SD over (up to) 200k random pairs.
    pairs = min(200_000, n_users * n_movies)
    su, sm = rng.integers(0, n_users, pairs), rng.integers(0, n_movies, pairs)
    sd = float(np.einsum("ij,ij->i", user_factors[su], movie_factors[sm]).std())
    factor_scale = math.sqrt(_INTERACTION_SD / max(sd, 1e-12))
    return _TasteModel(
        user_bias=user_bias.astype(np.float32),
        movie_bias=movie_bias.astype(np.float32),
        user_factors=np.ascontiguousarray((factor_scale * user_factors).T, dtype=np.float32),
        movie_factors=np.ascontiguousarray((factor_scale * movie_factors).T, dtype=np.float32),
        noise_sd=_NOISE_SD,
    )


def _scores(model: _TasteModel, users: np.ndarray, user_runs: tuple[slice, np.ndarray] | None,
            movies: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Latent scores for rating rows. With `user_runs` = (user slice, run lengths) the user
    terms are expanded with np.repeat (rows grouped by user), otherwise gathered by `users`."""

    def user_term(values: np.ndarray) -> np.ndarray:
        if user_runs is None:
            return values[users]
        sl, runs = user_runs
        return np.repeat(values[sl], runs)

    s = user_term(model.user_bias)
    s += model.movie_bias[movies]
    for k in range(model.user_factors.shape[0]):
        s += user_term(model.user_factors[k]) * model.movie_factors[k][movies]
    s += np.float32(model.noise_sd) * rng.standard_normal(s.size, dtype=np.float32)
    return s


def _quantize(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Stars 1..5 from scores and the four cut points."""
    stars = np.ones(scores.size, dtype=np.int8)
    for t in thresholds.astype(np.float32):
        stars += scores > t
    return stars


def _fit_thresholds(model: _TasteModel, movies: np.ndarray, row_offsets: np.ndarray, seed: int) -> np.ndarray:
    """Cut points at the quantiles of the scores of (up to) 2M evenly spaced rating rows,
    so that the star shares come out as Netflix's."""
    rng = _rng(seed, _S_THRESHOLDS)
    n = movies.size
    rows = np.arange(0, n, max(1, n // 2_000_000), dtype=np.int64)
    users = np.searchsorted(row_offsets, rows, side="right") - 1
    scores = _scores(model, users, None, movies[rows].astype(np.int64), rng)
    return np.quantile(scores, np.cumsum(RATING_SHARES)[:4])


# --------------------------------------------------------------------------------------
# Dates and probe (per chunk of users, rows user-major)
# --------------------------------------------------------------------------------------


def _rating_days(rng: np.random.Generator, signup: np.ndarray, n_u: np.ndarray) -> np.ndarray:
    """Days of each user's ratings, non-decreasing within the user: the first on the sign-up
    day, the others the order statistics of draws from a density growing like
    exp(_ACTIVITY_GROWTH * t / N_DAYS) on [sign-up, last day]."""
    total = int(n_u.sum())
    start = np.cumsum(n_u) - n_u
    e = rng.standard_exponential(total)
    cs = np.cumsum(e)
    # Sorted uniforms from exponential spacings: U_j = (e_1+..+e_j) / (e_0+..+e_{n-1}).
    base = cs[start]
    span = cs[start + n_u - 1] - base + e[start]
    u = cs
    u -= np.repeat(base, n_u)
    u /= np.repeat(span, n_u)
    # Inverse CDF of the density exp(b t / N_DAYS) on [sign-up, N_DAYS).
    b = _ACTIVITY_GROWTH
    x0 = np.exp(b * signup / N_DAYS)
    u *= np.repeat(math.exp(b) - x0, n_u)
    u += np.repeat(x0, n_u)
    t = (N_DAYS / b * np.log(u)).astype(np.int64)
    return np.clip(t, np.repeat(signup, n_u), N_DAYS - 1)


@dataclass(frozen=True)
class _RowKeys:
    """A rating row packed into an int64: ``movie | user | code | probe`` from the high bits
    down, where code = day * 5 + star - 1. Sorting the keys orders the rows by movie, then by
    user index (= sign-up order), which is the order of the text files."""

    user_bits: int
    CODE_BITS = 14  # N_DAYS * 5 = 11,215 codes

    @property
    def user_shift(self) -> int:
        return self.CODE_BITS + 1

    @property
    def movie_shift(self) -> int:
        return self.user_bits + self.CODE_BITS + 1

    def pack(self, movie: np.ndarray, user: np.ndarray, code: np.ndarray, probe: np.ndarray) -> np.ndarray:
        keys = movie.astype(np.int64) << self.movie_shift
        keys |= user.astype(np.int64) << self.user_shift
        keys |= code.astype(np.int64) << 1
        keys |= probe
        return keys

    def user(self, keys: np.ndarray) -> np.ndarray:
        return (keys >> self.user_shift) & ((1 << self.user_bits) - 1)

    def code(self, keys: np.ndarray) -> np.ndarray:
        return (keys >> 1) & ((1 << self.CODE_BITS) - 1)


def _fill_empty_days(keys: np.ndarray, layout: _RowKeys, day_counts: np.ndarray, row_offsets: np.ndarray,
                     rng: np.random.Generator) -> int:
    """Make every day of the range carry at least one rating where possible.

    For a day nobody rated, one rating that lies after it moves to that day, chosen among
    ratings whose user's previous rating is on or before it, so each user's days stay
    non-decreasing and never precede the sign-up (rows are user-major, days ascending within
    a user). Only small samples have empty days. Returns how many ratings moved."""
    empty = np.flatnonzero(day_counts == 0)
    if empty.size == 0:
        return 0
    days = layout.code(keys) // 5
    prev = np.empty_like(days)
    prev[1:] = days[:-1]
    prev[row_offsets[:-1]] = N_DAYS  # a user's first rating stays on the sign-up day
    moved = 0
    for d in empty.tolist():
        rows = np.flatnonzero((prev <= d) & (days > d))
        if rows.size == 0:
            continue
        row = int(rows[rng.integers(rows.size)])
        star_part = int(layout.code(keys[row]) % 5)
        keys[row] += (d * 5 + star_part - int(layout.code(keys[row]))) << 1
        days[row] = d
        if row + 1 < days.size and prev[row + 1] != N_DAYS:
            prev[row + 1] = d
        moved += 1
    return moved


def _probe_flags(rng: np.random.Generator, n_u: np.ndarray, p: float) -> np.ndarray:
    """Probe rows: among each user's last min(9, n-1) rows (their most recent ratings), each
    with probability `p`."""
    total = int(n_u.sum())
    held = np.minimum(PROBE_MAX_PER_USER, n_u - 1)
    end = np.cumsum(n_u)
    pos_from_end = np.repeat(end, n_u) - np.arange(total) - 1  # 0 for a user's last row
    candidates = np.flatnonzero(pos_from_end < np.repeat(held, n_u))
    flags = np.zeros(total, dtype=bool)
    flags[candidates] = rng.random(candidates.size) < p
    return flags


# --------------------------------------------------------------------------------------
# Text formatting: 32-byte rows of four little-endian uint64 words and a mask
# --------------------------------------------------------------------------------------
#
# bytes  0.. 7  header "<movie>:\n" right-aligned (only on a movie's first row)
# bytes  8..15  customer id right-aligned, then ',' (or '\n' in probe.txt)
# bytes 16..23  star, ',', first 6 characters of the date
# bytes 24..31  last 4 characters of the date, '\n', 3 unused


def _pack_words(byte_rows: np.ndarray) -> np.ndarray:
    """(n, 8) uint8 -> (n,) little-endian uint64."""
    return np.ascontiguousarray(byte_rows, dtype=np.uint8).view("<u8").reshape(-1)


def _right_aligned(numbers: np.ndarray, terminator: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Words holding the decimal digits of `numbers` (< 10^(8-len(terminator)))
    right-aligned before `terminator`, and the matching mask words."""
    tail = len(terminator)
    width = 8 - tail
    numbers = numbers.astype(np.int64)
    rows = np.zeros((numbers.size, 8), dtype=np.uint8)
    for k in range(width):  # digit of 10^k sits at byte width-1-k
        rows[:, width - 1 - k] = 48 + (numbers // 10**k) % 10
    for i, ch in enumerate(terminator):
        rows[:, width + i] = ch
    digits = np.ones(numbers.size, dtype=np.int64)
    for k in range(1, width):
        digits += numbers >= 10**k
    mask = (np.arange(8)[None, :] >= (width - digits)[:, None]).astype(np.uint8)
    return _pack_words(rows), _pack_words(mask)


def _date_words() -> tuple[np.ndarray, np.ndarray, int]:
    """Words 2 and 3 for every (day, star) code ``day * 5 + star - 1``, and word 3's mask."""
    codes = np.arange(N_DAYS * 5)
    day, star = codes // 5, codes % 5 + 1
    text = np.array([(FIRST_DAY + dt.timedelta(days=d)).isoformat() for d in range(N_DAYS)], dtype="S10")
    date_bytes = text.view(np.uint8).reshape(N_DAYS, 10)[day]
    w2 = np.empty((codes.size, 8), dtype=np.uint8)
    w2[:, 0] = 48 + star
    w2[:, 1] = ord(",")
    w2[:, 2:8] = date_bytes[:, 0:6]
    w3 = np.zeros((codes.size, 8), dtype=np.uint8)
    w3[:, 0:4] = date_bytes[:, 6:10]
    w3[:, 4] = ord("\n")
    mask3 = int(_pack_words(np.array([[1, 1, 1, 1, 1, 0, 0, 0]]))[0])
    return _pack_words(w2), _pack_words(w3), mask3


_ALL_ONES = int(_pack_words(np.ones((1, 8), dtype=np.uint8))[0])


def _movie_header_words(n_movies: int) -> tuple[np.ndarray, np.ndarray]:
    """Words for "<movie_id>:\\n" right-aligned in 8 bytes (ids 1..n_movies, index 0-based)."""
    return _right_aligned(np.arange(1, n_movies + 1), b":\n")


def _format_block(
    header_rows: np.ndarray,
    header_movies: np.ndarray,
    header_words: tuple[np.ndarray, np.ndarray],
    cust_word: np.ndarray,
    cust_mask: np.ndarray,
    tail_words: list[tuple[np.ndarray | int, int]],
) -> np.ndarray:
    """Text bytes of a block of rows.

    `cust_word`/`cust_mask`: per-row word 1. `tail_words`: further (word array or constant,
    mask constant) columns. Rows `header_rows` get the header of `header_movies` in word 0.
    """
    n = cust_word.size
    ncols = 2 + len(tail_words)
    words = np.zeros((n, ncols), dtype="<u8")
    masks = np.zeros((n, ncols), dtype="<u8")
    words[header_rows, 0] = header_words[0][header_movies]
    masks[header_rows, 0] = header_words[1][header_movies]
    words[:, 1] = cust_word
    masks[:, 1] = cust_mask
    for j, (w, m) in enumerate(tail_words, start=2):
        words[:, j] = w
        masks[:, j] = m
    return words.view(np.uint8).reshape(n, 8 * ncols)[masks.view(np.bool_).reshape(n, 8 * ncols)]


# --------------------------------------------------------------------------------------
# Titles
# --------------------------------------------------------------------------------------

_ADJECTIVES = (
    "Silent", "Broken", "Golden", "Last", "Hidden", "Wild", "Dark", "Lost", "Crimson", "Frozen",
    "Electric", "Little", "Endless", "Secret", "Bitter", "Sweet", "Restless", "Burning", "Quiet",
    "Savage", "Lonely", "Eternal", "Midnight", "Distant", "Hollow", "Perfect", "Reckless", "Blue",
    "Final", "Forgotten", "Deadly", "Strange", "Velvet", "Iron", "Silver", "Scarlet", "Tender",
    "Wicked", "Brave", "Fallen", "Invisible", "Northern", "Southern", "Paper", "Glass", "Stolen",
    "Sleeping", "Dancing", "Haunted", "Lucky", "Naked", "Crazy", "Royal", "Early", "Long", "Empty",
    "Rising", "Shining", "Falling", "Painted",
)
_NOUNS = (
    "River", "Garden", "Road", "Night", "Summer", "Heart", "City", "Storm", "Game", "Kingdom",
    "Island", "Mirror", "Promise", "Highway", "Shadow", "Empire", "Letter", "Train", "Winter",
    "Station", "Harbor", "Dream", "Circus", "Frontier", "Orchard", "Border", "Symphony", "Secret",
    "Murder", "Wedding", "Detective", "Soldier", "Stranger", "Horizon", "Castle", "Voyage", "Angel",
    "Hunter", "Witness", "Valley", "Desert", "Ocean", "Forest", "Mountain", "Bridge", "Tower",
    "Prince", "Queen", "Thief", "Ghost", "Machine", "Planet", "Sister", "Brother", "Father",
    "Daughter", "Son", "Lover", "Rebel", "Outlaw", "Saint", "Sinner", "Kiss", "Song", "Dance",
    "Sky", "Moon", "Star", "Sun", "Rain", "Fire", "Wind", "Journey", "Escape", "Revenge",
    "Legacy", "Paradise", "Hotel", "Diary",
)
_NAMES = (
    "Mary", "Jack", "Eddie", "Molly", "Harry", "Lucy", "Frank", "Rosa", "Sam", "Charlie", "Annie",
    "Victor", "Grace", "Max", "Tom", "Nina", "Oscar", "Ruby", "Leo", "Ellen", "Walter", "Dolores",
    "Otto", "Iris", "Hugo", "Stella", "Felix", "Billy", "Maggie", "Joe",
)
_NAMES_ACCENTED = (
    "Amélie", "José", "Zoë", "François", "Björn", "Chloé", "Renée", "Agnès", "Søren", "Hélène",
    "Jürgen", "Inês",
)
_SURNAMES = (
    "Smith", "Brown", "Jones", "Dubois", "Kowalski", "Moreau", "Russo", "Keller", "O'Brien",
    "Larsen", "Fischer", "Wilson", "Baker", "Costa", "Young", "Miller", "Parker", "Hayes",
)
_SURNAMES_ACCENTED = ("Müller", "García", "Núñez", "Björk", "Peña")
_ABSTRACT = (
    "Love", "Death", "Taxes", "Money", "Honor", "Blood", "Glory", "Sex", "Lies", "Videotape",
    "Guns", "Roses", "Dust", "Fire", "Ice", "Sugar", "Spice", "Crime", "Punishment", "Pride",
    "Prejudice", "Sense", "Sensibility", "Bread", "Wine", "Faith", "Fear", "Hope", "Rage",
)
_PLACES = (
    "Paris", "Brooklyn", "Texas", "Chicago", "Tokyo", "Vienna", "Havana", "Cairo", "Berlin",
    "Venice", "Alaska", "Memphis", "Dublin", "Lisbon", "Manhattan", "Mars", "the Moon", "Nowhere",
    "Rome", "Hong Kong", "Bombay", "the West", "London", "Harlem", "Nevada", "Sicily",
)
_PLACES_ACCENTED = ("Málaga", "Zürich", "São Paulo", "Montréal", "Köln", "Bogotá", "Cádiz", "Reykjavík")
_GREETINGS = ("Goodbye", "Hello", "Good Night", "Farewell", "Welcome Home", "Run", "Wake Up", "Hold On")
_SUFFIXES = (
    ": Part II", ": Part III", ": Season 1", ": Season 2", ": Season 3", ": The Return",
    ": Director's Cut", ": Vol. 1", ": Vol. 2", " 2", ": Special Edition", ": The Movie",
)
# Title patterns and how often each is used; 2 and 3 have commas.
_TITLE_PATTERNS = (
    ("the", 0.24), ("of_the", 0.14), ("owner", 0.12), ("abstract", 0.03), ("greeting", 0.02),
    ("in_place", 0.12), ("and_the", 0.10), ("abstract_place", 0.07), ("place_colon", 0.06),
    ("for_name", 0.10),
)
_ACCENTED_SHARE = 0.10  # chance that a name or place is one with accented letters

# Genre-specific words (adjectives, nouns): a title mostly uses its movie's first genre's words,
# so that a person can guess the genre from the title.
_GENRE_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Drama": (("Quiet", "Bitter", "Broken", "Fragile", "Distant", "Long", "Tender", "Empty"),
              ("Father", "Daughter", "Silence", "Inheritance", "Letter", "Promise", "Family", "Winter")),
    "Comedy": (("Crazy", "Silly", "Awkward", "Wacky", "Goofy", "Nutty", "Lucky", "Clumsy"),
               ("Roommates", "Vacation", "Party", "Blunder", "Prank", "Neighbours", "Bachelor", "Weekend")),
    "Romance": (("Sweet", "Tender", "Forever", "Secret", "Summer", "Lovesick", "Blushing", "Starry"),
                ("Kiss", "Heart", "Love Letter", "Wedding", "Valentine", "Sweetheart", "Honeymoon", "Bride")),
    "Musical": (("Singing", "Dancing", "Jazzy", "Golden", "Swinging", "Rhythmic", "Glittering", "Merry"),
                ("Melody", "Song", "Chorus", "Ballroom", "Broadway", "Serenade", "Rhapsody", "Tango")),
    "Stand-Up": (("Unfiltered", "Uncensored", "Live", "Raw", "Unplugged", "Loud", "Honest", "Awkward"),
                 ("Comedy Hour", "Punchline", "Open Mic", "Roast", "Monologue", "Mic Drop", "Set", "Encore")),
    "Kids": (("Magic", "Happy", "Little", "Silly", "Tiny", "Fluffy", "Giggling", "Bouncy"),
             ("Puppy", "Pony", "Teddy Bear", "Bunny", "Treehouse", "Kitten", "Balloon", "Lollipop")),
    "Anime": (("Spirited", "Celestial", "Neon", "Shining", "Eternal", "Astral", "Thundering", "Sacred"),
              ("Samurai", "Ronin", "Sakura", "Shogun", "Mecha", "Katana", "Kaiju", "Shrine")),
    "Fantasy": (("Enchanted", "Mystic", "Elven", "Cursed", "Ancient", "Fabled", "Sorcerous", "Gilded"),
                ("Sorcerer", "Dragon", "Wizard", "Sword", "Realm", "Crown", "Prophecy", "Unicorn")),
    "Action": (("Lethal", "Maximum", "Explosive", "Armed", "Rogue", "Extreme", "Fearless", "Bulletproof"),
               ("Strike", "Force", "Mission", "Showdown", "Commando", "Target", "Assault", "Vengeance")),
    "Adventure": (("Lost", "Great", "Forbidden", "Hidden", "Uncharted", "Golden", "Perilous", "Savage"),
                  ("Treasure", "Expedition", "Jungle", "Island", "Quest", "Voyage", "Temple", "Map")),
    "Sci-Fi": (("Galactic", "Quantum", "Robotic", "Cosmic", "Orbital", "Cyber", "Alien", "Interstellar"),
               ("Planet", "Android", "Starship", "Galaxy", "Nebula", "Clone", "Colony", "Time Machine")),
    "War": (("Fallen", "Iron", "Brave", "Bloody", "Burning", "Last", "Valiant", "Frozen"),
            ("Battalion", "Front", "Trenches", "Regiment", "Platoon", "Battle", "Sergeant", "Bunker")),
    "Thriller": (("Deadly", "Twisted", "Fatal", "Cold", "Silent", "Paranoid", "Dangerous", "Sleepless"),
                 ("Conspiracy", "Witness", "Trap", "Obsession", "Stranger", "Pursuit", "Deception", "Alibi")),
    "Horror": (("Haunted", "Bloody", "Cursed", "Undead", "Screaming", "Rotting", "Wicked", "Hollow"),
               ("Ghost", "Nightmare", "Crypt", "Zombie", "Scream", "Witch", "Graveyard", "Chainsaw")),
    "Crime": (("Dirty", "Crooked", "Stolen", "Smoking", "Bent", "Ruthless", "Corrupt", "Hard-Boiled"),
              ("Heist", "Mobster", "Gangster", "Racket", "Cartel", "Getaway", "Hustle", "Godfather")),
    "Mystery": (("Missing", "Curious", "Strange", "Veiled", "Vanishing", "Locked", "Midnight", "Peculiar"),
                ("Detective", "Clue", "Riddle", "Enigma", "Manor", "Disappearance", "Key", "Puzzle")),
    "Documentary": (("True", "Real", "Inside", "Untold", "Wild", "Changing", "Vanishing", "Modern"),
                    ("Story", "Truth", "Wildlife", "Industry", "Voices", "Archive", "Ocean Life", "Climate")),
    "Western": (("Dusty", "Lonesome", "Wild", "Outlaw", "Sunburnt", "Rawhide", "Restless", "Lawless"),
                ("Gunslinger", "Sheriff", "Saloon", "Ranch", "Stagecoach", "Canyon", "Rustler", "Frontier")),
}
_GENRE_WORD_SHARE = 0.85  # chance that a title's adjective or noun comes from its genre's words


def _plural(noun: str) -> str:
    """English plural of the title nouns: Party -> Parties, Witch -> Witches, Key -> Keys."""
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "o", "u"):
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def _title(rng: np.random.Generator, genre: str | None = None) -> str:
    """One made-up title from the word lists (some with commas, some with accents), with the
    adjective and noun mostly from `genre`'s words when given."""

    def pick(words: tuple[str, ...]) -> str:
        return words[int(rng.integers(len(words)))]

    genre_adjectives, genre_nouns = _GENRE_WORDS[genre] if genre else (_ADJECTIVES, _NOUNS)

    def adjective() -> str:
        return pick(genre_adjectives if rng.random() < _GENRE_WORD_SHARE else _ADJECTIVES)

    def noun_() -> str:
        return pick(genre_nouns if rng.random() < _GENRE_WORD_SHARE else _NOUNS)

    def name() -> str:
        return pick(_NAMES_ACCENTED if rng.random() < _ACCENTED_SHARE else _NAMES)

    def surname() -> str:
        return pick(_SURNAMES_ACCENTED if rng.random() < _ACCENTED_SHARE else _SURNAMES)

    def place() -> str:
        return pick(_PLACES_ACCENTED if rng.random() < _ACCENTED_SHARE else _PLACES)

    kind = _TITLE_PATTERNS[int(np.searchsorted(_PATTERN_CUM, rng.random(), side="right"))][0]
    adj, noun = adjective(), noun_()
    if genre == "Stand-Up" and kind != "abstract":  # a comedian's show
        title = f"{name()} {surname()}: {adj}" + (f" in {place()}" if rng.random() < 0.5 else f" {noun}")
    elif kind == "the":
        title = f"The {adj} {noun}" + (f" of {place()}" if rng.random() < 0.75 else "")
    elif kind == "of_the":
        first = noun_()
        title = f"{first if first != noun else pick(_NOUNS)} of the {adj} {noun}"
    elif kind == "owner":
        title = f"{name()}'s {adj} {noun}"
    elif kind == "abstract":
        title = f"{pick(_ABSTRACT)}, {pick(_ABSTRACT)} and {pick(_ABSTRACT)}"
    elif kind == "greeting":
        title = f"{pick(_GREETINGS)}, {name()} {surname()}"
    elif kind == "in_place":
        title = f"{adj} {_plural(noun)} in {place()}"
    elif kind == "and_the":
        title = f"{name()} and the {adj} {noun}"
    elif kind == "abstract_place":
        title = f"{pick(_ABSTRACT)} in the {noun} of {place()}"
    elif kind == "place_colon":
        title = f"{place()}: {adj} {noun}"
    else:
        title = f"A {adj} {noun} for {name()}"
    if rng.random() < 0.08:
        title += pick(_SUFFIXES)
    return title


_PATTERN_CUM = np.cumsum([w for _, w in _TITLE_PATTERNS]) / sum(w for _, w in _TITLE_PATTERNS)


def movie_titles(n_movies: int, seed: int, primary_genres: list[int] | None = None) -> list[tuple[int, int | None, str]]:
    """(movie_id, year or None, title) for movies 1..n_movies: years 1915..2005 skewed to
    recent ones, about 0.5% unknown (NULL), titles in the words of each movie's primary genre
    (index into GENRES) when given; the first title has a comma, an accent and no year so that
    even the smallest sample shows every quirk of the real file."""
    rng = _rng(seed, _S_TITLES)
    age = np.minimum(rng.gamma(1.3, 9.0, size=n_movies), 2005 - 1915)
    years = (2005 - np.floor(age)).astype(int)
    null = rng.random(n_movies) < 0.005
    rows: list[tuple[int, int | None, str]] = []
    for i in range(n_movies):
        genre = GENRES[primary_genres[i]] if primary_genres is not None else None
        rows.append((i + 1, None if null[i] else int(years[i]), _title(rng, genre)))
    rows[0] = (1, None, "Amélie's Garden, Part II")
    return rows


# --------------------------------------------------------------------------------------
# The whole thing
# --------------------------------------------------------------------------------------


def _chunk_bounds(n_u: np.ndarray, rows_per_chunk: int) -> np.ndarray:
    """User boundaries of chunks of about `rows_per_chunk` rating rows (user-major)."""
    cum = np.cumsum(n_u)
    marks = np.arange(rows_per_chunk, int(cum[-1]), rows_per_chunk)
    inner = np.searchsorted(cum, marks, side="left") + 1
    return np.unique(np.concatenate([[0], inner, [n_u.size]])).astype(np.int64)


def _file_split(movie_counts: np.ndarray, n_files: int = 4) -> np.ndarray:
    """Movie boundaries splitting the movies into `n_files` contiguous ranges of about
    equal rating counts."""
    cum = np.cumsum(movie_counts)
    marks = cum[-1] * np.arange(1, n_files) / n_files
    inner = np.searchsorted(cum, marks, side="left") + 1
    return np.concatenate([[0], inner, [movie_counts.size]]).astype(np.int64)


def _genre_tables(genres: GenrePlan, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per genre, an alias table of its movies' popularity, all genres concatenated: offsets,
    movies, probabilities and aliases (as movie indexes)."""
    members: list[list[int]] = [[] for _ in GENRES]
    for movie, movie_genres in enumerate(genres.movie_genres):
        for g in movie_genres:
            members[g].append(movie)
    offsets = np.zeros(len(GENRES) + 1, dtype=np.int64)
    movies, probs, aliases = [], [], []
    for g, ids in enumerate(members):
        if not ids:  # a genre no movie has (tiny samples): its draws fall back to the whole catalogue
            ids = list(range(weights.size))
        ids_arr = np.asarray(ids, dtype=np.int64)
        prob, alias = _alias_table(weights[ids_arr] / weights[ids_arr].sum())
        movies.append(ids_arr)
        probs.append(prob)
        aliases.append(ids_arr[alias])
        offsets[g + 1] = offsets[g] + ids_arr.size
    return offsets, np.concatenate(movies), np.concatenate(probs), np.concatenate(aliases)


def _taste_budget(budget: np.ndarray, n_u: np.ndarray, n_movies: int) -> np.ndarray:
    """First-round draws per user: the popularity-only budget, raised for the repeats of
    taste-driven draws (within a few genres) and the draws turned down for distaste."""
    return np.ceil(budget * (1.0 + _TASTE_BUDGET * _genre_share(n_u, n_movies))).astype(np.int64)


def _genre_share(n_u: np.ndarray, n_movies: int) -> np.ndarray:
    """Share of a user's draws taken from their liked genres: _GENRE_DRAW_SHARE, less for users
    who rate a large part of the catalogue (their liked genres alone cannot hold their ratings)."""
    room = np.clip(1.0 - n_u / (0.5 * n_movies), 0.0, 1.0)
    return (_GENRE_DRAW_SHARE * room).astype(np.float32)


def _sample_pairs(shape: SampleShape, n_u: np.ndarray, weights: np.ndarray, genres: GenrePlan, seed: int,
                  prog: _Progress) -> tuple[np.ndarray, _PairPlan]:
    """The movie of every rating row, user-major (rows of user u are
    ``row_offsets[u]:row_offsets[u+1]``), every movie rated at least once."""
    alias_prob, alias_idx = _alias_table(weights)
    offsets, genre_movies, genre_prob, genre_alias = _genre_tables(genres, weights)
    plan = _PairPlan(
        n_u=n_u,
        budget=_taste_budget(_draw_budget(n_u, weights), n_u, shape.n_movies),
        explore=_exploration(n_u, shape.n_movies),
        alias_prob=alias_prob,
        alias_idx=alias_idx,
        user_bounds=_chunk_bounds(n_u, _CHUNK_RATINGS),
        row_offsets=np.concatenate([[0], np.cumsum(n_u)]).astype(np.int64),
        genre_share=_genre_share(n_u, shape.n_movies),
        genres=genres,
        genre_offsets=offsets,
        genre_movies=genre_movies,
        genre_prob=genre_prob,
        genre_alias=genre_alias,
    )
    n_chunks = plan.user_bounds.size - 1
    movies = np.empty(shape.n_ratings, dtype=np.int16)
    t_stage = time.perf_counter()
    for c, chunk_movies in enumerate(_map_ordered(lambda c: _sample_pairs_chunk(seed, c, plan), n_chunks)):
        r0, r1 = plan.row_offsets[plan.user_bounds[c]], plan.row_offsets[plan.user_bounds[c + 1]]
        movies[r0:r1] = chunk_movies
        prog.step("pairs", int(r1), shape.n_ratings, t_stage, force=c == n_chunks - 1)
    _cover_all_movies(movies, shape.n_movies, _rng(seed, _S_COVER))
    return movies, plan


def _rate(shape: SampleShape, movies: np.ndarray, plan: _PairPlan, signup: np.ndarray, model: _TasteModel,
          layout: _RowKeys, seed: int, prog: _Progress) -> np.ndarray:
    """Days, stars and probe flags of every row, packed into row keys (still user-major)."""
    n_u, row_offsets = plan.n_u, plan.row_offsets
    held = np.minimum(PROBE_MAX_PER_USER, n_u - 1)
    probe_p = min(1.0, PROBE_SHARE * shape.n_ratings / max(1, int(held.sum())))
    keys = np.empty(shape.n_ratings, dtype=np.int64)
    n_chunks = plan.user_bounds.size - 1

    def rate_chunk(c: int) -> np.ndarray:
        u0, u1 = int(plan.user_bounds[c]), int(plan.user_bounds[c + 1])
        r0, r1 = int(row_offsets[u0]), int(row_offsets[u1])
        rng = _rng(seed, _S_RATINGS, c)
        runs = n_u[u0:u1]
        days = _rating_days(rng, signup[u0:u1], runs)
        if u1 == shape.n_users:  # someone rates on the very last day
            days[-1] = N_DAYS - 1
        chunk_movies = movies[r0:r1].astype(np.int64)
        scores = _scores(model, np.empty(0, dtype=np.int64), (slice(u0, u1), runs), chunk_movies, rng)
        stars = _quantize(scores, model.thresholds)
        users = np.repeat(np.arange(u0, u1, dtype=np.int64), runs)
        keys[r0:r1] = layout.pack(chunk_movies, users, days * 5 + stars - 1, _probe_flags(rng, runs, probe_p))
        return np.bincount(days, minlength=N_DAYS)

    day_counts = np.zeros(N_DAYS, dtype=np.int64)
    t_stage = time.perf_counter()
    for c, counts in enumerate(_map_ordered(rate_chunk, n_chunks)):
        day_counts += counts
        prog.step("ratings", int(row_offsets[plan.user_bounds[c + 1]]), shape.n_ratings, t_stage,
                  force=c == n_chunks - 1)
    _fill_empty_days(keys, layout, day_counts, row_offsets, _rng(seed, _S_DAYS))
    return keys


def _write_combined(out_dir: Path, keys: np.ndarray, layout: _RowKeys, movie_counts: np.ndarray,
                    customers: np.ndarray, prog: _Progress) -> tuple[list[Path], int, np.ndarray]:
    """combined_data_1..4.txt from the movie-sorted row keys. Returns the paths, the bytes
    written and the (sorted) rows flagged for the probe."""
    n_movies = movie_counts.size
    movie_start = np.concatenate([[0], np.cumsum(movie_counts)]).astype(np.int64)
    header_words = _movie_header_words(n_movies)
    cust_word, cust_mask = _right_aligned(customers, b",")
    date_w2, date_w3, mask3 = _date_words()
    bounds = _file_split(movie_counts)
    paths = [out_dir / f"combined_data_{i}.txt" for i in range(1, 5)]
    total = int(keys.size)
    done = [0]
    lock = threading.Lock()
    t_stage = time.perf_counter()

    def write_file(i: int) -> tuple[int, list[np.ndarray]]:
        a, b = int(movie_start[bounds[i]]), int(movie_start[bounds[i + 1]])
        written, probe_rows = 0, []
        with open(paths[i], "wb") as f:
            for lo in range(a, b, _TEXT_CHUNK_ROWS):
                hi = min(b, lo + _TEXT_CHUNK_ROWS)
                k = keys[lo:hi]
                first = np.searchsorted(movie_start[:-1], lo, side="left")
                mv = np.arange(first, np.searchsorted(movie_start[:-1], hi, side="left"))
                mv = mv[movie_counts[mv] > 0]
                u = layout.user(k)
                code = layout.code(k)
                text = _format_block(movie_start[mv] - lo, mv, header_words, cust_word[u], cust_mask[u],
                                     [(date_w2[code], _ALL_ONES), (date_w3[code], mask3)])
                f.write(memoryview(text))
                written += text.size
                probe_rows.append(lo + np.flatnonzero(k & 1))
                with lock:
                    done[0] += hi - lo
                    prog.step("text", done[0], total, t_stage, force=done[0] == total)
        return written, probe_rows

    results = list(_map_ordered(write_file, 4))
    probe_rows = np.concatenate([r for _, rows in results for r in rows])
    return paths, sum(w for w, _ in results), probe_rows


def _write_probe(path: Path, keys: np.ndarray, layout: _RowKeys, probe_rows: np.ndarray,
                 movie_counts: np.ndarray, customers: np.ndarray) -> int:
    """probe.txt: the flagged rows in file order, as ``<movie>:`` then customer ids."""
    movie_start = np.concatenate([[0], np.cumsum(movie_counts)]).astype(np.int64)
    probe_movies = np.searchsorted(movie_start, probe_rows, side="right") - 1
    first = np.flatnonzero(np.concatenate([[True], probe_movies[1:] != probe_movies[:-1]])) if probe_rows.size else \
        np.empty(0, dtype=np.int64)
    cust_word, cust_mask = _right_aligned(customers, b"\n")
    users = layout.user(keys[probe_rows])
    text = _format_block(first, probe_movies[first], _movie_header_words(movie_counts.size),
                         cust_word[users], cust_mask[users], [])
    path.write_bytes(text.tobytes())
    return int(text.size)


def _write_titles(path: Path, n_movies: int, seed: int, primary_genres: list[int] | None = None) -> int:
    """movie_titles.csv: ``id,year,title`` in latin-1, unquoted, ``NULL`` for unknown years."""
    lines = [f"{mid},{'NULL' if year is None else year},{title}\n"
             for mid, year, title in movie_titles(n_movies, seed, primary_genres)]
    data = "".join(lines).encode("latin-1")
    path.write_bytes(data)
    return len(data)


def _write_readme(path: Path, size: str, seed: int, shape: SampleShape, n_probe: int) -> int:
    """README.txt: what the folder holds."""
    text = (
        "Synthetic data generated by movierec (`movierec generate`).\n"
        "This is NOT the Netflix Prize data: it is a made-up, deterministic sample in the same\n"
        "file layout (combined_data_1..4.txt, movie_titles.csv, probe.txt), with the same kind\n"
        "of structure (long tail of movie popularity, heavy-tailed user activity, growth over\n"
        "time, Netflix's rating shares, latent user and movie factors).\n"
        "\n"
        "Every movie has 1-3 genres from a fixed list; its taste factors are its genres' direction\n"
        "plus individual variation, and users like or dislike a few genres. Users mostly rate what\n"
        "they chose to watch: movies of their liked genres are drawn more often, of their disliked\n"
        "ones rarely. movie_genres.csv (movie_id,genre) is the planted truth, NOT a Netflix Prize\n"
        "file: `movierec ingest` loads it as optional metadata, no model reads it.\n"
        "\n"
        f"size: {size}\n"
        f"seed: {seed}\n"
        f"ratings: {shape.n_ratings}\n"
        f"users: {shape.n_users}\n"
        f"movies: {shape.n_movies}\n"
        f"probe pairs: {n_probe}\n"
        f"dates: {FIRST_DAY.isoformat()} .. {LAST_DAY.isoformat()}\n"
        "\n"
        "The same size and seed always give byte-identical files.\n"
    )
    path.write_bytes(text.encode("ascii"))
    return len(text)


def generate(size: str, out_dir: Path, seed: int = 20061002, progress: bool = True) -> GenerateSummary:
    """Write the synthetic sample of the given size (tiny | demo | full) into `out_dir`
    (created if needed): combined_data_1..4.txt, movie_titles.csv, probe.txt, README.txt.

    Same size and seed give byte-identical files. Progress goes to stderr when `progress`
    is true (never for tiny). Returns counts, files and timing.
    """
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; expected one of {', '.join(SIZES)}")
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    t_start = time.perf_counter()
    shape = SIZES[size]
    if shape.n_movies >= 1 << _MOVIE_BITS:
        raise ValueError("too many movies")
    prog = _Progress(progress and size != "tiny", "generate")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    prog.note(f"{size}: {shape.n_ratings:,} ratings, {shape.n_users:,} users, {shape.n_movies:,} movies, seed {seed}")

    # Users, movies, taste.
    users_rng = _rng(seed, _S_USERS)
    signup = signup_days(shape.n_users, users_rng)
    n_u = user_activity(shape, signup, users_rng)
    weights = popularity_weights(shape, _rng(seed, _S_MOVIES))
    movie_genres = draw_movie_genres(shape.n_movies, _rng(seed, _S_GENRES))
    user_prefs, liked, liked_cum = draw_user_genres(shape.n_users, _rng(seed, _S_PREFS))
    genres = GenrePlan(
        movie_genres=movie_genres,
        movie_mask=np.array([genre_mask(g) for g in movie_genres], dtype=np.int32),
        liked=liked,
        liked_cum=liked_cum,
        disliked_mask=((user_prefs < 0) * (1 << np.arange(len(GENRES), dtype=np.int64))).sum(axis=1).astype(np.int32),
    )
    model = taste_model(shape.n_users, weights, genres, user_prefs, _rng(seed, _S_LATENT))
    del user_prefs
    customers = customer_ids(shape.n_users, seed)

    # Rows: (user, movie) pairs, then days, stars and probe flags, then movie-major order.
    movies, plan = _sample_pairs(shape, n_u, weights, genres, seed, prog)
    movie_counts = np.bincount(movies, minlength=shape.n_movies)
    model = dataclasses.replace(model, thresholds=_fit_thresholds(model, movies, plan.row_offsets, seed))
    layout = _RowKeys(user_bits=max(1, (shape.n_users - 1).bit_length()))
    keys = _rate(shape, movies, plan, signup, model, layout, seed, prog)
    del movies
    prog.note("sorting by movie")
    keys.sort()  # by movie, then user (sign-up order): the real files are not sorted by customer id

    # Files.
    paths, n_bytes, probe_rows = _write_combined(out_dir, keys, layout, movie_counts, customers, prog)
    probe_path, titles_path, readme_path = out_dir / "probe.txt", out_dir / "movie_titles.csv", out_dir / "README.txt"
    genres_path = out_dir / "movie_genres.csv"
    n_bytes += _write_probe(probe_path, keys, layout, probe_rows, movie_counts, customers)
    n_bytes += _write_titles(titles_path, shape.n_movies, seed, [g[0] for g in movie_genres])
    n_bytes += _write_genres(genres_path, movie_genres)
    n_bytes += _write_readme(readme_path, size, seed, shape, int(probe_rows.size))

    summary = GenerateSummary(
        size=size,
        seed=seed,
        out_dir=out_dir,
        n_users=shape.n_users,
        n_movies=shape.n_movies,
        n_ratings=shape.n_ratings,
        n_probe=int(probe_rows.size),
        files=[*paths, titles_path, genres_path, probe_path, readme_path],
        bytes_written=n_bytes,
        seconds=time.perf_counter() - t_start,
    )
    prog.note(f"done: {n_bytes / 1e9:.2f} GB in {summary.seconds:.1f}s -> {out_dir}")
    return summary
