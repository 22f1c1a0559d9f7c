"""iALS's compiled conjugate-gradient kernel against a plain numpy reference of the same steps."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.models._ials_kernel import cg_rows
from movierec.models.topn import _Rows


def reference_cg(rows: _Rows, design: np.ndarray, alpha: float, reg: np.ndarray, start: np.ndarray, steps: int):
    """The CG steps of `cg_rows`, one row at a time in float64 with A_u formed explicitly."""
    design = design.astype(np.float32).astype(np.float64)  # the kernel reads float32 factors
    base = alpha * (design.T @ design)
    k = design.shape[1]
    out = np.array(start, dtype=np.float64, copy=True)
    for u in range(len(rows.counts)):
        x = design[rows.other[rows.indptr[u] : rows.indptr[u + 1]]]
        a = x.T @ x + base + reg[u] * np.eye(k)
        w = out[u].copy()
        r = x.sum(axis=0) - a @ w
        p = r.copy()
        rs_old = r @ r
        for _ in range(steps):
            ap = a @ p
            curvature = p @ ap
            step = rs_old / curvature if curvature > 0 else 0.0
            w += step * p
            r -= step * ap
            rs_new = r @ r
            beta = rs_new / rs_old if rs_old > 0 else 0.0
            p = r + beta * p
            rs_old = rs_new
        out[u] = w
    return out


def csr(row: np.ndarray, other: np.ndarray, n_rows: int, n_other: int) -> _Rows:
    return _Rows.build(np.asarray(row), np.asarray(other), n_rows, n_other)


@pytest.mark.parametrize("k", [3, 8, 13, 50])
def test_kernel_matches_the_numpy_reference_on_random_data(k):
    rng = np.random.default_rng(k)
    n_users, n_movies, n = 120, 70, 2500
    pairs = np.unique(rng.integers(0, n_users * n_movies, n))
    rows = csr(pairs // n_movies, pairs % n_movies, n_users, n_movies)
    design = rng.normal(0, 0.3, (n_movies, k))
    reg = 0.03 * (rows.counts + 0.1 * n_movies)
    start = rng.normal(0, 0.1, (n_users, k))
    for steps in (1, 3):
        expected = reference_cg(rows, design, 0.1, reg, start, steps)
        got = rows.solve_cg(design, 0.1, reg, start, steps)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7 * np.abs(expected).max())
        assert not np.allclose(got, start)


def test_rows_with_zero_and_one_rating():
    # user 0 has no ratings (b = 0: it steps towards 0), user 1 one rating, user 2 two
    rows = csr([1, 2, 2], [3, 0, 3], 3, 5)
    rng = np.random.default_rng(1)
    design = rng.normal(0, 0.5, (5, 4))
    reg = np.array([0.2, 0.5, 0.7])
    start = rng.normal(0, 1, (3, 4))
    got = rows.solve_cg(design, 0.1, reg, start, 2)
    np.testing.assert_allclose(got, reference_cg(rows, design, 0.1, reg, start, 2), rtol=1e-5, atol=1e-12)
    # k = 4 steps solve the 4 x 4 systems: the exact solutions, 0 for the row without ratings
    exact = rows.solve(design.astype(np.float32).astype(np.float64), 0.1, reg, 128.0)
    np.testing.assert_allclose(rows.solve_cg(design, 0.1, reg, start, 4), exact, rtol=1e-6, atol=1e-9)
    assert np.abs(exact[0]).max() == 0.0 and np.abs(exact[1]).max() > 0.1


def test_a_wide_row_next_to_narrow_ones():
    # a movie of 50,000 ratings (the popular movies of the full data) among movies of a few
    rng = np.random.default_rng(2)
    users = np.concatenate([np.arange(50_000), rng.integers(0, 50_000, 30)])
    movies = np.concatenate([np.zeros(50_000, dtype=np.int64), rng.integers(1, 10, 30)])
    rows = csr(movies, users, 10, 50_000)
    design = rng.normal(0, 0.1, (50_000, 16))
    reg = 0.03 * (rows.counts + 0.1 * 50_000)
    start = rng.normal(0, 0.1, (10, 16))
    got = rows.solve_cg(design, 0.1, reg, start, 3)
    np.testing.assert_allclose(got, reference_cg(rows, design, 0.1, reg, start, 3), rtol=1e-5, atol=1e-12)


def test_zero_curvature_and_zero_residual_leave_the_row_where_it_is():
    rows = csr([0, 1], [0, 1], 3, 2)
    start = np.array([[1.0, 2.0], [0.5, -0.5], [3.0, 4.0]])
    # no factors, no Gramian, no regularization: A = 0, so p.A p = 0 and no step is taken
    np.testing.assert_array_equal(rows.solve_cg(np.zeros((2, 2)), 0.0, np.zeros(3), start, 3), start)
    # from the exact solution r = 0: no step, and no 0/0 in beta
    design = np.array([[1.0, 0.0], [0.0, 2.0]])
    reg = np.array([1.0, 1.0, 1.0])
    exact = rows.solve(design, 0.0, reg, 128.0)
    np.testing.assert_array_equal(rows.solve_cg(design, 0.0, reg, exact, 3), exact)


def test_two_runs_are_equal_and_the_input_is_not_changed():
    rng = np.random.default_rng(3)
    pairs = np.unique(rng.integers(0, 300 * 40, 3000))
    rows = csr(pairs // 40, pairs % 40, 300, 40)
    design = rng.normal(0, 0.3, (40, 10))
    reg = 0.03 * (rows.counts + 4.0)
    start = rng.normal(0, 0.1, (300, 10))
    kept = start.copy()
    first = rows.solve_cg(design, 0.1, reg, start, 3)
    np.testing.assert_array_equal(rows.solve_cg(design, 0.1, reg, start, 3), first)
    np.testing.assert_array_equal(start, kept)


def test_the_kernel_writes_in_place_in_float64():
    rows = csr([0], [0], 1, 1)
    out = np.zeros((1, 2))
    design = np.array([[1.0, 0.0]], dtype=np.float32)
    cg_rows(rows.indptr, rows.other, design, np.zeros((2, 2)), np.array([1.0]), out, 2)
    # (h h^T + I) w = h with h = (1, 0): w = (0.5, 0)
    np.testing.assert_allclose(out, [[0.5, 0.0]], rtol=1e-15)
