"""The one row batching of the alternating fits (movierec.models.rows)."""

import numpy as np
import pytest

from movierec.models._rows_kernel import sort_pairs_inplace
from movierec.models.rows import RowBatches, stable_argsort


def skewed_pairs(seed: int = 0, n_rows: int = 300, n_other: int = 70):
    rng = np.random.default_rng(seed)
    counts = np.minimum(rng.zipf(1.6, n_rows), n_other)  # a long tail, as in real rating counts
    counts[:5] = 0  # rows with no ratings still get a batch (and a width of at least 1)
    row = np.repeat(np.arange(n_rows), counts)
    other = np.concatenate([rng.choice(n_other, c, replace=False) for c in counts]).astype(np.int32)
    shuffle = rng.permutation(len(row))
    return row[shuffle].astype(np.int32), other[shuffle], rng.normal(size=len(row)).astype(np.float32), n_rows, n_other


@pytest.mark.parametrize("block_entries", [None, 64, 1 << 16])
def test_every_row_is_in_exactly_one_batch_and_the_gather_returns_its_ratings(block_entries):
    row, other, value, n_rows, n_other = skewed_pairs()
    batches = RowBatches.build(row, other, n_rows, n_other, value, block_entries)
    seen = np.concatenate([rows for rows, _ in batches.batches()])
    assert sorted(seen.tolist()) == list(range(n_rows))
    design = np.vstack([np.arange(n_other, dtype=np.float64)[:, None] + 1.0, [[0.0]]])  # row j holds j + 1
    for rows, width in batches.batches():
        counts = np.bincount(row, minlength=n_rows)[rows]
        assert width == max(counts.max(), 1)
        gathered = batches.gather(design, rows, width)[:, :, 0]
        pos, count = batches.positions(rows, width)
        np.testing.assert_array_equal(count, counts)
        for r, got, p, n in zip(rows, gathered, pos, count):
            assert sorted(got[:n] - 1) == sorted(other[row == r].tolist())  # the row's own ratings
            assert (got[n:] == 0).all()  # padding gathers the zero design row
            assert sorted(batches.value[p[:n]].tolist()) == sorted(value[row == r].tolist())
            assert (batches.value[p[n:]] == 0).all()


def test_padded_block_cuts_keep_their_limits_and_similar_count_cuts_group_close_counts():
    row, other, value, n_rows, n_other = skewed_pairs(seed=1)
    counts = np.bincount(row, minlength=n_rows)
    blocks = RowBatches.build(row, other, n_rows, n_other, value, block_entries=64)
    for rows, width in blocks.batches():
        real = np.maximum(counts[rows], 1).sum()
        assert len(rows) == 1 or (len(rows) * width <= 64 and len(rows) * width <= 1.25 * real + 4 * len(rows))
    runs = RowBatches.build(row, other, n_rows, n_other)
    assert runs.value is None
    for rows, _width in runs.batches():
        assert len(rows) == 1 or counts[rows].max() <= int(counts[rows].min() * 1.25) + 4
    assert len(runs.cuts) < len(blocks.cuts)  # no memory cap: fewer, longer batches


def test_stable_argsort_is_numpys_stable_argsort_beyond_16_bit_keys():
    keys = np.random.default_rng(2).integers(0, 200_000, 5_000)
    np.testing.assert_array_equal(stable_argsort(keys, 200_000), np.argsort(keys, kind="stable"))


@pytest.mark.parametrize("with_values", [True, False])
def test_the_ratings_are_grouped_by_row_stably_in_csr_order(with_values):
    row, other, value, n_rows, n_other = skewed_pairs(seed=3)
    batches = RowBatches.build(row, other, n_rows, n_other, value if with_values else None)
    order = np.argsort(row, kind="stable")  # within a row, the order given
    np.testing.assert_array_equal(batches.indptr, np.r_[0, np.cumsum(np.bincount(row, minlength=n_rows))])
    np.testing.assert_array_equal(batches.other, np.r_[other[order], n_other])
    if with_values:
        np.testing.assert_array_equal(batches.value, np.r_[value[order], 0.0].astype(np.float32))
    else:
        assert batches.value is None


def test_grouping_refuses_a_row_index_outside_the_rows():
    row, other, value, n_rows, n_other = skewed_pairs(seed=4)
    row[7] = n_rows
    with pytest.raises(ValueError, match="outside"):
        RowBatches.build(row, other, n_rows, n_other, value)


def test_the_ratings_are_sorted_in_place_by_user_then_movie_then_position():
    rng = np.random.default_rng(5)
    user, movie = rng.integers(0, 90, 4000).astype(np.int32), rng.integers(0, 30, 4000).astype(np.int32)
    rating = rng.standard_normal(4000)  # repeated pairs too: they keep their order
    order = np.lexsort((movie, user))
    expected = user[order], movie[order], rating[order]
    sort_pairs_inplace(user, 90, movie, 30, rating)
    for got, want in zip((user, movie, rating), expected):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="outside"):
        sort_pairs_inplace(user, 89, movie, 30, rating)
