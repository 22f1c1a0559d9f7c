"""Movies: popularity weights, and sampling each user's (user, movie) pairs from them (alias tables,
taste-driven draws, de-duplication through sorted int64 keys)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from movierec.generate.genres import _DISLIKE_SKIP, GenrePlan
from movierec.generate.shapes import _MOVIE_BITS, _S_PAIRS, SampleShape, _rng

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


def _draw_keys(rng: np.random.Generator, plan: _PairPlan, local: np.ndarray, u0: int, draws: np.ndarray) -> np.ndarray:
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
        g = np.where(
            third,
            np.repeat(liked[:, 2], draws)[rows],
            np.where(second, np.repeat(liked[:, 1], draws)[rows], np.repeat(liked[:, 0], draws)[rows]),
        )
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
        extra = np.ceil((deficit + 2.0 * np.sqrt(deficit) + 1.0) * ratio * 2.0 * 2.0**attempt).astype(np.int64)
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
