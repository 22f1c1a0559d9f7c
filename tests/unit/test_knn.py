"""Item/user kNN: the neighbourhood average against a plain reference written from its definition, and the similarities."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.models.knn import neighbour_average


def reference(sims: np.ndarray, residuals: np.ndarray, n: int, min_neighbors: int) -> np.ndarray:
    """Per row: the n largest non-zero similarities (ties broken by candidate position, which the
    sum does not depend on when the tied values are equal and so are their residuals), then
    sum s e / sum |s|, or 0 with fewer than min_neighbors of them."""
    out = np.zeros(len(sims))
    for row, s in enumerate(np.asarray(sims, dtype=np.float64)):
        nonzero = np.flatnonzero(s)
        top = nonzero[np.argsort(-s[nonzero], kind="stable")][:n]
        if len(top) >= max(min_neighbors, 1) and np.abs(s[top]).sum() > 0:
            out[row] = (s[top] * residuals[top]).sum() / np.abs(s[top]).sum()
    return out


@pytest.mark.parametrize("candidates", [5, 12, 40, 200])
def test_neighbour_average_matches_its_definition(candidates):
    rng = np.random.default_rng(candidates)
    sims = (rng.standard_normal((300, candidates)) * 0.2).astype(np.float32)
    sims[rng.random(sims.shape) < 0.4] = 0.0
    residuals = rng.standard_normal(candidates)
    for n, min_neighbors in ((10, 1), (10, 4), (3, 1)):
        got = neighbour_average(sims, residuals, n, min_neighbors)
        np.testing.assert_allclose(got, reference(sims, residuals, n, min_neighbors), rtol=0, atol=1e-12)


def test_ties_at_the_cut_keep_exactly_n_neighbours():
    # 6 candidates tie at 0.5 for the last 2 places of 4: any 2 of them give the same sum only
    # when their residuals are equal, so give the tied ones equal residuals and check the count
    sims = np.array([[0.9, 0.8, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.0, -0.3]], dtype=np.float32)
    residuals = np.array([1.0, -1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 7.0, 5.0])
    got = neighbour_average(sims, residuals, 4, 1)
    expected = (0.9 * 1.0 + 0.8 * -1.0 + 2 * 0.5 * 2.0) / (0.9 + 0.8 + 0.5 + 0.5)
    assert got[0] == pytest.approx(expected, abs=1e-7)
    # min_neighbors counts the kept neighbours: 4 kept, so 5 required gives 0
    assert neighbour_average(sims, residuals, 4, 5)[0] == 0.0


def test_rows_with_too_few_nonzero_similarities():
    sims = np.array([[0.0, 0.2, 0.0, -0.1, 0.0, 0.0], [0.0] * 6], dtype=np.float32)
    residuals = np.arange(6, dtype=np.float64)
    got = neighbour_average(sims, residuals, 4, 1)
    assert got[0] == pytest.approx((0.2 * 1 - 0.1 * 3) / 0.3)
    assert got[1] == 0.0
    assert neighbour_average(sims, residuals, 4, 3)[0] == 0.0


def test_no_neighbours_is_refused():
    with pytest.raises(ValueError, match="n_neighbors must be at least 1"):
        neighbour_average(np.ones((2, 3), dtype=np.float32), np.ones(3), 0)


def test_one_block_mixing_every_kind_of_row():
    # rows with fewer non-zero similarities than n, exactly one n-th value, and ties at the cut,
    # in one block (each kind takes its own path), in float32 and float64
    rng = np.random.default_rng(7)
    sims = (rng.standard_normal((60, 30)) * 0.3).astype(np.float32)
    sims[:20, 5:] = 0.0  # at most 5 non-zero: fewer than n = 8
    sims[20:40, :12] = 0.25  # 12 candidates tie for the top 8
    sims[40:, :4] = 0.0  # plain rows, a few zeros
    residuals = rng.standard_normal(30)
    residuals[:12] = 1.5  # the tied candidates share a residual, so any 8 of them give the same sum
    for dtype in (np.float32, np.float64):
        block = sims.astype(dtype)
        for min_neighbors in (1, 6):
            got = neighbour_average(block, residuals, 8, min_neighbors)
            np.testing.assert_allclose(got, reference(block, residuals, 8, min_neighbors), rtol=0, atol=1e-12)


def test_ties_with_different_residuals_keep_the_entries_argpartition_picks():
    # the kept tied entries are argpartition's choice on the negated similarities (zeros last),
    # the rule the scoring has always followed; a transposed (Fortran-ordered) block gives the same
    sims = np.array([[0.3, 0.5, 0.5, 0.0, 0.5, 0.5, 0.9, 0.5]] * 3, dtype=np.float32)
    residuals = np.arange(8, dtype=np.float64)
    key = np.where(sims != 0, -sims, np.inf)
    picks = np.argpartition(key, 3, axis=1)[:, :4]
    kept = np.take_along_axis(sims, picks, axis=1).astype(np.float64)
    expected = (kept * residuals[picks]).sum(axis=1) / np.abs(kept).sum(axis=1)
    np.testing.assert_allclose(neighbour_average(sims, residuals, 4, 1), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        neighbour_average(np.asfortranarray(sims), residuals, 4, 1), expected, rtol=0, atol=1e-12
    )


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
