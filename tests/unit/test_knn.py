"""Item/user kNN: the neighbourhood-average kernels against a plain numpy reference written from
their definition, and the similarities."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.models._knn_kernel import MIN_TILE_TARGETS, TILE_ENTRIES, grid_averages, pair_averages


def reference(sims: np.ndarray, residuals: np.ndarray, n: int, min_neighbors: int) -> float:
    """One target: the n largest non-zero similarities, the earliest candidates in history order
    first among equal values (a stable sort), then sum s e / sum |s|, or 0 with fewer than
    min_neighbors of them."""
    s = np.asarray(sims, dtype=np.float64)
    nonzero = np.flatnonzero(s)
    top = nonzero[np.argsort(-s[nonzero], kind="stable")][:n]
    if len(top) >= max(min_neighbors, 1) and np.abs(s[top]).sum() > 0:
        return float((s[top] * residuals[top]).sum() / np.abs(s[top]).sum())
    return 0.0


def histories(lengths, n_items, rng):
    """A CSR (indptr, indices, residuals) of one history per length, sorted candidates."""
    rows = [np.sort(rng.choice(n_items, h, replace=False)) for h in lengths]
    indptr = np.r_[0, np.cumsum(lengths)].astype(np.int32)
    indices = np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, np.int32)
    return indptr, indices, rng.standard_normal(int(indptr[-1]))


def symmetric(n_items, rng, zero_share=0.3, scale=0.2):
    upper = np.triu(rng.standard_normal((n_items, n_items)) * scale, 1)
    upper[rng.random(upper.shape) < zero_share] = 0.0
    return (upper + upper.T).astype(np.float32)


def check_against_reference(similarity, indptr, indices, residuals, n, min_neighbors):
    keys = np.arange(len(indptr) - 1)
    targets = np.arange(len(similarity))
    grid = grid_averages(similarity, indptr, indices, residuals, keys, targets, n, min_neighbors)
    expected = np.zeros_like(grid)
    for key in keys:
        lo, hi = indptr[key], indptr[key + 1]
        for target in targets:
            expected[key, target] = reference(similarity[target, indices[lo:hi]], residuals[lo:hi], n, min_neighbors)
    np.testing.assert_allclose(grid, expected, rtol=0, atol=1e-12)
    # every pair on its own gives the same bits as the grid (held-out predictions = ranking scores)
    kk, tt = np.meshgrid(keys, targets, indexing="ij")
    pairs = pair_averages(similarity, indptr, indices, residuals, kk.ravel(), tt.ravel(), n, min_neighbors)
    assert np.array_equal(pairs, grid.ravel())
    return grid


@pytest.mark.parametrize("n, min_neighbors", [(10, 1), (10, 4), (3, 1), (1, 1), (50, 20)])
def test_kernel_matches_the_reference_without_ties(n, min_neighbors):
    rng = np.random.default_rng(n + min_neighbors)
    similarity = symmetric(120, rng)
    indptr, indices, residuals = histories([0, 1, 5, 12, 40, 119], 120, rng)
    check_against_reference(similarity, indptr, indices, residuals, n, min_neighbors)


def test_ties_keep_the_earliest_candidates_in_history_order():
    # 6 candidates tie at 0.5 for the last 2 places of 4, with different residuals: the first two
    # tied ones in history order (candidates 2 and 3) are kept
    similarity = np.zeros((11, 11), dtype=np.float32)
    row = np.array([0.9, 0.8, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.0, -0.3], dtype=np.float32)
    similarity[10, :10] = similarity[:10, 10] = row
    indptr, indices = np.array([0, 10]), np.arange(10)
    residuals = np.array([1.0, -1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 70.0, 50.0])
    got = grid_averages(similarity, indptr, indices, residuals, [0], [10], 4)[0, 0]
    expected = (0.9 * 1.0 + 0.8 * -1.0 + 0.5 * 2.0 + 0.5 * 3.0) / (0.9 + 0.8 + 0.5 + 0.5)
    assert got == pytest.approx(expected, abs=1e-7)
    assert pair_averages(similarity, indptr, indices, residuals, [0], [10], 4)[0] == got
    # the history in another order keeps the earliest of that order instead
    shuffled = np.array([7, 6, 5, 4, 3, 2, 1, 0, 8, 9])
    got = grid_averages(similarity, indptr, shuffled, residuals[shuffled], [0], [10], 4)[0, 0]
    expected = (0.9 * 1.0 + 0.8 * -1.0 + 0.5 * 7.0 + 0.5 * 6.0) / (0.9 + 0.8 + 0.5 + 0.5)
    assert got == pytest.approx(expected, abs=1e-7)
    # min_neighbors counts the kept neighbours: 4 kept, so 5 required gives 0
    assert grid_averages(similarity, indptr, indices, residuals, [0], [10], 4, 5)[0, 0] == 0.0


def test_many_ties_match_the_stable_reference():
    # similarities on a coarse grid of values: ties at the n-th value in most targets
    rng = np.random.default_rng(5)
    similarity = (np.round(symmetric(90, rng) * 10) / 10).astype(np.float32)
    indptr, indices, residuals = histories([30, 60, 89], 90, rng)
    for n, min_neighbors in ((8, 1), (20, 10), (1, 1)):
        check_against_reference(similarity, indptr, indices, residuals, n, min_neighbors)


def test_fewer_non_zero_similarities_than_min_neighbors_give_zero():
    similarity = np.zeros((8, 8), dtype=np.float32)
    similarity[7, [1, 3]] = similarity[[1, 3], 7] = [0.2, -0.1]
    indptr, indices, residuals = np.array([0, 6]), np.arange(6), np.arange(6, dtype=np.float64)
    got = grid_averages(similarity, indptr, indices, residuals, [0], [7, 6], 4, 1)[0]
    assert got[0] == pytest.approx((0.2 * 1 - 0.1 * 3) / 0.3)
    assert got[1] == 0.0  # every similarity zero
    assert grid_averages(similarity, indptr, indices, residuals, [0], [7], 4, 3)[0, 0] == 0.0


def test_zero_similarities_are_never_neighbours_even_below_negative_ones():
    # 2 positive, 2 negative, 4 zeros, n = 3: the 3rd largest non-zero is negative, and the
    # zeros (larger than it) must not be taken in its place
    similarity = np.zeros((9, 9), dtype=np.float32)
    row = np.array([0.0, 0.6, 0.0, -0.2, 0.0, 0.4, -0.5, 0.0], dtype=np.float32)
    similarity[8, :8] = similarity[:8, 8] = row
    indptr, indices = np.array([0, 8]), np.arange(8)
    residuals = np.arange(1.0, 9.0)
    got = grid_averages(similarity, indptr, indices, residuals, [0], [8], 3)[0, 0]
    assert got == pytest.approx((0.6 * 2 + 0.4 * 6 - 0.2 * 4) / 1.2, abs=1e-7)
    assert got == pytest.approx(reference(row, residuals, 3, 1), abs=1e-12)


def test_an_empty_history_and_empty_inputs_give_zeros():
    similarity = symmetric(6, np.random.default_rng(0))
    indptr, indices, residuals = np.array([0, 0, 2]), np.array([1, 2]), np.array([1.0, -1.0])
    grid = grid_averages(similarity, indptr, indices, residuals, [0, 1], np.arange(6), 2)
    assert np.array_equal(grid[0], np.zeros(6))
    assert pair_averages(similarity, indptr, indices, residuals, [0, 0], [3, 4], 2).tolist() == [0.0, 0.0]
    assert grid_averages(similarity, indptr, indices, residuals, [], np.arange(6), 2).shape == (0, 6)
    assert pair_averages(similarity, indptr, indices, residuals, [], [], 2).shape == (0,)


def test_long_histories_use_narrow_tiles_and_targets_in_any_order():
    # a history longer than TILE_ENTRIES / MIN_TILE_TARGETS takes MIN_TILE_TARGETS targets per tile,
    # next to a short one; the targets are a shuffled subset (as UserKNN's users are)
    rng = np.random.default_rng(3)
    n_items = TILE_ENTRIES // MIN_TILE_TARGETS + 200
    similarity = symmetric(n_items, rng, zero_share=0.5)
    indptr, indices, residuals = histories([n_items - 10, 30], n_items, rng)
    targets = rng.permutation(n_items)[:150]
    grid = grid_averages(similarity, indptr, indices, residuals, [0, 1], targets, 40, 5)
    for key in (0, 1):
        lo, hi = indptr[key], indptr[key + 1]
        expected = [reference(similarity[t, indices[lo:hi]], residuals[lo:hi], 40, 5) for t in targets]
        np.testing.assert_allclose(grid[key], expected, rtol=0, atol=1e-12)


def test_float64_similarities_are_read_as_float32_and_bad_arguments_are_refused():
    rng = np.random.default_rng(2)
    similarity = symmetric(30, rng)
    indptr, indices, residuals = histories([20], 30, rng)
    args = (indptr, indices, residuals, [0], np.arange(30), 5)
    assert np.array_equal(grid_averages(similarity.astype(np.float64), *args), grid_averages(similarity, *args))
    with pytest.raises(ValueError, match="n_neighbors must be at least 1"):
        grid_averages(similarity, indptr, indices, residuals, [0], np.arange(30), 0)
    with pytest.raises(ValueError, match="must pair up"):
        pair_averages(similarity, indptr, indices, residuals, [0, 0], [1], 5)
    with pytest.raises(IndexError, match="targets"):
        pair_averages(similarity, indptr, indices, residuals, [0], [30], 5)
    with pytest.raises(IndexError, match="keys"):
        grid_averages(similarity, indptr, indices, residuals, [1], [3], 5)


def test_residual_similarity_from_the_upper_triangle_matches_its_definition_whatever_the_blocks():
    # only the upper triangle is computed, block by block, and mirrored: check every entry against
    # the formula on dense arrays, and that tiny blocks (many mirrors) give the same bits as one
    import scipy.sparse as sp

    from movierec.models.knn import residual_similarity

    rng = np.random.default_rng(11)
    observed = rng.random((60, 25)) < 0.4
    e = np.where(observed, rng.standard_normal((60, 25)), 0.0)
    b = observed.astype(np.float64)
    numerator, overlap = e.T @ e, b.T @ b
    squares_row, squares_col = (e * e).T @ b, b.T @ (e * e)
    expected = np.divide(
        numerator, np.sqrt(squares_row * squares_col), out=np.zeros_like(numerator), where=squares_row * squares_col > 0
    )
    expected *= overlap / (overlap + 10.0)
    np.fill_diagonal(expected, 0.0)
    one_block = residual_similarity(sp.csr_matrix(e), sp.csr_matrix(b), 10.0, block_memory_mb=64.0)
    many_blocks = residual_similarity(sp.csr_matrix(e), sp.csr_matrix(b), 10.0, block_memory_mb=0.005)  # 4 columns
    np.testing.assert_allclose(one_block, expected, rtol=1e-5, atol=1e-7)
    assert np.array_equal(one_block, many_blocks)
