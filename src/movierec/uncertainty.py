"""How sure is a metric? Bootstrap intervals over test users and paired comparisons of models.

A test set is a sample of users; a metric computed on it is an estimate. Resampling the test
*users* with replacement (all of a user's ratings move together, since one user's errors are
correlated) and recomputing the metric gives its sampling distribution: the 2.5th and 97.5th
percentiles of `samples` replicates are the 95% interval (percentile bootstrap, seeded, so the
same warehouse gives the same intervals).

Comparing two models on the same users, the right test is *paired*: each replicate draws one set
of users and evaluates both models on it, and the interval of the difference says whether one
is better. Two overlapping marginal intervals do not mean "no difference": the paired interval
is much narrower because both models face the same easy and hard users.

Metrics: RMSE = sqrt(sum of squared errors / ratings) and MAE = sum |error| / ratings, both
pooled over the replicate's ratings (as the point estimate pools them); ranking metrics (nDCG,
precision, recall, MAP, hit rate at k) are means over users of a per-user value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOWER_IS_BETTER = {"rmse", "mae"}


@dataclass(frozen=True)
class UserStats:
    """Per-user parts of one metric for one model: the metric is sum(numerator) / sum(weight)
    over users, then `sqrt` for RMSE."""

    user_id: np.ndarray
    numerator: np.ndarray
    weight: np.ndarray
    root: bool = False


def replicate_weights(n_users: int, samples: int, rng: np.random.Generator):
    """Yield (chunk, n_users) arrays of how often each user is drawn in each replicate (chunks
    of at most ~20M entries, so 480K Netflix users take 160 MB at a time)."""
    chunk = int(max(1, min(64, 20_000_000 // max(n_users, 1))))
    done = 0
    while done < samples:
        size = min(chunk, samples - done)
        draws = rng.integers(0, n_users, size=(size, n_users))
        weights = np.zeros((size, n_users))
        for row in range(size):
            weights[row] = np.bincount(draws[row], minlength=n_users)
        done += size
        yield weights


def _value(numerator, weight, root: bool):
    with np.errstate(invalid="ignore", divide="ignore"):
        value = numerator / weight
    return np.sqrt(value) if root else value


def bootstrap(
    stats: dict[str, UserStats],
    baseline: str | None,
    samples: int = 1000,
    seed: int = 42,
    level: float = 0.95,
    lower_is_better: bool = True,
) -> dict[str, dict]:
    """Intervals for one metric of several models, and paired differences to `baseline`.

    Every model is evaluated on the same replicate draws of the users they share (the users of
    the metric's first model define the draw; a model missing a user contributes nothing for
    that user). Returns per model: value, ci_low, ci_high, users, and when `baseline` is among
    the models (and is not this model): difference_ci_low / difference_ci_high of
    (model - baseline) and is_better (the whole interval on the better side of 0).
    """
    users = np.unique(np.concatenate([s.user_id for s in stats.values()])) if stats else np.zeros(0, int)
    aligned = {}
    for name, s in stats.items():
        numerator = np.zeros(len(users))
        weight = np.zeros(len(users))
        pos = np.searchsorted(users, s.user_id)
        numerator[pos] = s.numerator
        weight[pos] = s.weight
        aligned[name] = (numerator, weight, s.root)
    rng = np.random.default_rng(seed)
    replicates = {name: [] for name in stats}
    names = list(aligned)
    # every model's numerator and weight side by side: one matrix product per chunk of replicates
    stacked = np.column_stack([column for name in names for column in aligned[name][:2]]) if names else None
    for weights in replicate_weights(len(users), samples, rng):
        sums = weights @ stacked
        for j, name in enumerate(names):
            replicates[name].append(_value(sums[:, 2 * j], sums[:, 2 * j + 1], aligned[name][2]))
    tail = (1.0 - level) / 2.0 * 100.0
    out = {}
    for name, (numerator, weight, root) in aligned.items():
        reps = np.concatenate(replicates[name]) if replicates[name] else np.zeros(0)
        reps = reps[np.isfinite(reps)]
        row = {
            "value": float(_value(numerator.sum(), weight.sum(), root)) if weight.sum() else None,
            "users": int(np.count_nonzero(weight)),
            "ci_low": None,
            "ci_high": None,
            "difference_ci_low": None,
            "difference_ci_high": None,
            "is_better": None,
        }
        if len(reps):
            row["ci_low"], row["ci_high"] = (float(v) for v in np.percentile(reps, [tail, 100 - tail]))
        if baseline in aligned and name != baseline:
            diff = np.concatenate(replicates[name]) - np.concatenate(replicates[baseline])
            diff = diff[np.isfinite(diff)]
            if len(diff):
                low, high = (float(v) for v in np.percentile(diff, [tail, 100 - tail]))
                row["difference_ci_low"], row["difference_ci_high"] = low, high
                row["is_better"] = bool(high < 0) if lower_is_better else bool(low > 0)
        out[name] = row
    return out
