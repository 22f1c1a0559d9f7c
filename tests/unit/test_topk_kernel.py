"""The compiled row-wise top-k (movierec.models._topk_kernel) against `top_k`, the one-row reference."""

import numpy as np
import pytest

from movierec.arrays import top_k, top_k_rows


def reference(scores, k):
    top = np.zeros((len(scores), k), dtype=np.int64)
    valid = np.zeros((len(scores), k), dtype=bool)
    for r, row in enumerate(scores):
        best = top_k(row, k)
        top[r, : len(best)], valid[r, : len(best)] = best, True
    return top, valid


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 3, 10])
def test_the_kernel_gives_top_k_row_by_row(dtype, k):
    rng = np.random.default_rng(k)
    ties = rng.integers(0, 8, size=(200, 60)).astype(dtype)  # many ties, also at the cut
    smooth = rng.standard_normal((200, 60)).astype(dtype)  # ties only by chance
    for scores in (ties, smooth):
        scores[rng.random(scores.shape) < 0.2] = -np.inf  # rated movies
        scores[5, :] = -np.inf  # nothing left to recommend
        scores[6, 2:] = -np.inf  # fewer finite than k
        top, valid = top_k_rows(scores, k)
        expected_top, expected_valid = reference(scores, k)
        np.testing.assert_array_equal(valid, expected_valid)
        np.testing.assert_array_equal(top, expected_top)  # the unused places hold 0 in both


def test_nan_and_infinite_scores_are_never_taken_and_k_is_capped_by_the_columns():
    scores = np.array([[np.nan, 2.0, np.inf, 2.0, -np.inf, 1.0], [3.0, 3.0, 3.0, 3.0, 3.0, 3.0]])
    top, valid = top_k_rows(scores, 4)
    assert top[0][valid[0]].tolist() == [1, 3, 5] == top_k(scores[0], 4).tolist()  # the one-row API agrees
    assert top[1].tolist() == [0, 1, 2, 3] and valid[1].all()
    top, valid = top_k_rows(scores, 50)
    assert top.shape == (2, 6) and top[1].tolist() == list(range(6))


def test_a_non_contiguous_or_integer_block_is_ranked_too():
    scores = np.arange(40, dtype=np.int64).reshape(4, 10)[:, ::-1]  # a view, integers
    top, valid = top_k_rows(scores, 2)
    assert top.tolist() == [[0, 1]] * 4 and valid.all()
