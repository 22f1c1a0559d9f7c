"""The sample sizes (`SampleShape`, `SIZES`), the fixed constants of the Netflix layout, the summary
of a run, and the helpers every stage shares: seeded random streams and ordered thread maps."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np


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
