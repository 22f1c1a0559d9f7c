"""Bootstrap intervals over test users and the paired comparison (movierec.uncertainty)."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.uncertainty import UserStats, bootstrap


def rmse_stats(users, squared_errors, counts) -> UserStats:
    return UserStats(np.asarray(users), np.asarray(squared_errors, float), np.asarray(counts, float), root=True)


def test_one_user_has_a_degenerate_interval_at_the_value():
    out = bootstrap({"a": rmse_stats([7], [8.0], [2])}, baseline=None, samples=50)
    assert out["a"]["value"] == pytest.approx(2.0)
    assert out["a"]["ci_low"] == pytest.approx(2.0) and out["a"]["ci_high"] == pytest.approx(2.0)
    assert out["a"]["users"] == 1 and out["a"]["is_better"] is None


def test_interval_pools_errors_covers_the_value_and_narrows_with_more_users():
    rng = np.random.default_rng(0)

    def width(n):
        counts = rng.integers(1, 20, n)
        sq = rng.gamma(2.0, 0.5, n) * counts
        row = bootstrap({"m": rmse_stats(np.arange(n), sq, counts)}, None, samples=400, seed=1)["m"]
        assert row["value"] == pytest.approx(np.sqrt(sq.sum() / counts.sum()))  # pooled, not a mean of users
        assert row["ci_low"] < row["value"] < row["ci_high"]
        return row["ci_high"] - row["ci_low"]

    assert width(1600) < 0.4 * width(100)  # ~ 1 / sqrt(n)


def test_paired_comparison_finds_a_small_consistent_gain_that_marginal_intervals_hide():
    rng = np.random.default_rng(3)
    n = 200
    hardness = rng.gamma(2.0, 0.5, n)  # users differ a lot ...
    base = rmse_stats(np.arange(n), hardness * 10, np.full(n, 10))
    better = rmse_stats(np.arange(n), hardness * 10 * 0.97, np.full(n, 10))  # ... the gain is the same for all
    same = rmse_stats(np.arange(n), hardness * 10, np.full(n, 10))
    out = bootstrap({"base": base, "better": better, "same": same}, baseline="base", samples=500, seed=2)
    assert out["better"]["ci_low"] < out["base"]["ci_high"]  # the marginal intervals overlap ...
    assert out["better"]["is_better"] is True  # ... the paired test still sees it
    assert out["better"]["difference_ci_high"] < 0
    assert out["same"]["is_better"] is False and out["base"]["is_better"] is None
    # higher is better (ranking metrics): the sign flips
    ndcg = {
        "base": UserStats(np.arange(n), hardness, np.ones(n)),
        "better": UserStats(np.arange(n), hardness * 1.05, np.ones(n)),
    }
    assert bootstrap(ndcg, "base", samples=300, lower_is_better=False)["better"]["is_better"] is True


def test_seeded_and_users_aligned_by_id_not_position():
    a = rmse_stats([1, 2, 3], [1.0, 4.0, 9.0], [1, 1, 1])
    shuffled = rmse_stats([3, 1, 2], [9.0, 1.0, 4.0], [1, 1, 1])
    first = bootstrap({"a": a, "b": shuffled}, "a", samples=100, seed=5)
    again = bootstrap({"a": a, "b": shuffled}, "a", samples=100, seed=5)
    assert first == again
    assert first["b"]["ci_low"] == first["a"]["ci_low"] and first["b"]["difference_ci_high"] == 0.0
