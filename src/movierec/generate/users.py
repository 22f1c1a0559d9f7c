"""Users: customer ids, sign-up days and activity (how many ratings each user gives)."""

from __future__ import annotations

import math

import numpy as np

from movierec.generate.shapes import _S_CUSTOMERS, CUSTOMER_ID_MAX, N_DAYS, SampleShape, _rng

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
