"""Dates and probe: each user's rating days (per-user order statistics) and which recent ratings
go into probe.txt."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from movierec.generate.shapes import N_DAYS, PROBE_MAX_PER_USER
from movierec.generate.users import _ACTIVITY_GROWTH


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


def _fill_empty_days(
    keys: np.ndarray, layout: _RowKeys, day_counts: np.ndarray, row_offsets: np.ndarray, rng: np.random.Generator
) -> int:
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
