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


def sweep_data(seed: int = 5, k: int = 6):
    """Skewed rows (some empty) plus one long row (longer than the kernel's block of ratings),
    their values, and the other side's float32 [bias, factors]."""
    from movierec.models._sweep_kernel import CHUNK

    row, other, value, n_rows, n_other = skewed_pairs(seed=seed, n_rows=200, n_other=3 * CHUNK)
    rng = np.random.default_rng(seed)
    long_other = rng.choice(n_other, 3 * CHUNK - 7, replace=False).astype(np.int32)  # 2 full blocks and a part
    row = np.r_[row, np.full(len(long_other), n_rows - 1, dtype=np.int32)]
    other = np.r_[other, long_other]
    value = np.r_[value, rng.normal(size=len(long_other)).astype(np.float32)]
    keep = row != n_rows - 1
    keep[len(keep) - len(long_other) :] = True  # the long row holds only its own ratings (distinct pairs)
    design = rng.normal(size=(n_other, k + 1)).astype(np.float32)
    return row[keep], other[keep], value[keep], n_rows, n_other, design


def reference_normal_equations(row, other, value, design, u):
    """X^T X and X^T t of row u in float64 numpy, from the unsorted pairs."""
    mine = row == u
    h = design[other[mine]].astype(np.float64)
    x = np.c_[np.ones(len(h)), h[:, 1:]]
    t = value[mine].astype(np.float64) - h[:, 0]
    return x.T @ x, x.T @ t


def test_the_normal_equations_kernel_matches_a_float64_reference():
    from movierec.models._sweep_kernel import CHUNK, normal_equations

    row, other, value, n_rows, n_other, design = sweep_data()
    batches = RowBatches.build(row, other, n_rows, n_other, value, block_entries=256)
    counts = np.bincount(row, minlength=n_rows)
    assert (counts == 0).any() and counts.max() > 2 * CHUNK  # empty rows and a row of several blocks
    d = design.shape[1]
    for rows, _ in batches.batches():
        gram = np.full((len(rows), d, d), np.nan, dtype=np.float32)
        rhs = np.full((len(rows), d), np.nan, dtype=np.float32)
        kept = np.full((int(counts[rows].sum()), d + 1), np.nan, dtype=np.float32)
        normal_equations(batches.indptr, batches.other, batches.value, design, rows, gram, rhs, kept)
        # each rating's [other side's bias, factors, t], in the order of the rows and their ratings
        pos = np.concatenate([np.arange(batches.indptr[u], batches.indptr[u + 1]) for u in rows])
        h = design[batches.other[pos]]
        np.testing.assert_array_equal(kept, np.c_[h, batches.value[pos] - h[:, 0]])
        for u, g, r in zip(rows, gram, rhs):
            want_g, want_r = reference_normal_equations(row, other, value, design, u)
            np.testing.assert_allclose(g, want_g, rtol=1e-6, atol=1e-5)
            np.testing.assert_allclose(r, want_r, rtol=1e-6, atol=1e-5)
            assert (g == g.T).all()
            if counts[u] == 0:
                assert not g.any() and not r.any()


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("kernel", [True, False])
def test_sweep_solves_each_rows_equations_and_sums_its_errors_like_a_float64_reference(threads, kernel):
    from movierec.models.rows import BatchRunner

    row, other, value, n_rows, n_other, design = sweep_data(seed=6)
    batches = RowBatches.build(row, other, n_rows, n_other, value, block_entries=256)
    d = design.shape[1]
    penalty = np.linspace(0.5, 2.0, d)
    seen = []

    def solve(rows, gram, rhs, count, current):
        assert gram.dtype == rhs.dtype == np.float32 and current.shape == (len(rows), d)
        np.testing.assert_array_equal(count, np.bincount(row, minlength=n_rows)[rows])
        seen.append(rows.copy())
        a = gram.astype(np.float64) + np.diag(penalty)[None]
        return np.linalg.solve(a, rhs.astype(np.float64)[:, :, None])[:, :, 0].astype(np.float32)

    out = np.full((n_rows, d), 9.0, dtype=np.float32)
    mu, low, high = 3.6, 1.0, 5.0
    with BatchRunner(threads, len(row)) as runner:
        sse, clipped = batches.sweep(design, solve, out, runner, errors=(mu, low, high), kernel=kernel)
    assert sorted(np.concatenate(seen).tolist()) == list(range(n_rows))

    want_sse = want_clipped = 0.0
    for u in range(n_rows):
        g, r = reference_normal_equations(row, other, value, design, u)
        w = np.linalg.solve(g + np.diag(penalty), r)
        np.testing.assert_allclose(out[u], w, rtol=1e-4, atol=1e-5)
        mine = row == u
        h = design[other[mine]].astype(np.float64)
        f = out[u, 0] + h[:, 0] + h[:, 1:] @ out[u, 1:].astype(np.float64)
        want_sse += float(((value[mine] - f) ** 2).sum())
        want_clipped += float(((np.clip(mu + f, low, high) - (mu + value[mine].astype(np.float64))) ** 2).sum())
    rel = 1e-9 if kernel else 1e-5  # float64 sums; the GEMM path's residuals are float32
    assert sse == pytest.approx(want_sse, rel=rel)
    assert clipped == pytest.approx(want_clipped, rel=rel)
    assert clipped < sse  # the clipping does something on this data


def test_sweep_results_do_not_depend_on_the_thread_count():
    from movierec.models.mf import BiasedMF

    row, other, value, n_rows, n_other, _ = sweep_data(seed=7)
    from movierec.models.data import Ratings

    ratings = Ratings.from_ids(row + 1, other + 1, np.clip(np.round(value + 3), 1, 5).astype(float))
    one = BiasedMF(n_factors=5, epochs=3, threads=1, block_entries=256).fit(ratings)
    three = BiasedMF(n_factors=5, epochs=3, threads=3, block_entries=256).fit(ratings)
    np.testing.assert_array_equal(one.user_factors, three.user_factors)
    np.testing.assert_array_equal(one.movie_factors, three.movie_factors)
    assert [e.train_rmse for e in one.history] == [e.train_rmse for e in three.history]


def test_sweep_picks_the_kernel_by_the_factor_count(monkeypatch):
    from movierec.models import rows as rows_module
    from movierec.models.rows import BatchRunner

    row, other, value, n_rows, n_other, _ = sweep_data(seed=8)
    batches = RowBatches.build(row, other, n_rows, n_other, value, block_entries=256)
    called = []
    kernel = rows_module.normal_equations
    monkeypatch.setattr(rows_module, "normal_equations", lambda *a: called.append(1) or kernel(*a))

    def solve(rows, gram, rhs, count, current):
        return current

    for k in (RowBatches.KERNEL_MAX_FACTORS, RowBatches.KERNEL_MAX_FACTORS + 1):
        called.clear()
        design = np.zeros((n_other, k + 1), dtype=np.float32)
        out = np.zeros((n_rows, k + 1), dtype=np.float32)
        with BatchRunner(1, len(row)) as runner:
            batches.sweep(design, solve, out, runner)
        assert bool(called) == (k <= RowBatches.KERNEL_MAX_FACTORS)
