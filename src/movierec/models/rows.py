"""Ratings grouped by one side (users or movies) in batches of rows with similar rating counts:
the one row batching of the alternating fits (`BiasedMF`, `BayesianMF`, `BayesianTimeSVDpp`,
`ImplicitALS`).

Built on numpy (the grouping itself is a compiled counting sort, movierec.models._rows_kernel).
Each half-sweep of those fits updates every row of one side (every user, or every
movie) from the other side's factors. `RowBatches` holds the ratings sorted by that side (a CSR
layout: `indptr`, the other side's index and the value), the rows in order of their rating
count, and cuts of that order into batches. `sweep` is the explicit fits' step: per batch, the
normal equations of its [bias, factors] rows, then one batched numpy solve. Up to
`KERNEL_MAX_FACTORS` factors a compiled kernel (movierec.models._sweep_kernel) forms them
straight from the CSR; above, the batch is gathered at once, padded to its longest row with an
index that points at a zero design row, and they are stacked GEMMs. iALS forms its own systems
from the same batches (`gather`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np

from movierec.models._rows_kernel import group_by_row
from movierec.models._sweep_kernel import normal_equations, squared_errors
from movierec.models.blas import one_blas_thread
from movierec.models.data import Ratings


class BatchRunner:
    """Maps a function over batches on `threads` threads, in order, with BLAS held to one thread
    meanwhile. By default one thread below `SMALL` ratings (a pool costs more than it saves
    there, above all on a busy machine), else the CPU count (at most 8)."""

    SMALL = 1_000_000

    def __init__(self, threads: int | None, n_ratings: int) -> None:
        if threads is None:
            threads = 1 if n_ratings < self.SMALL else min(os.cpu_count() or 1, 8)
        self.threads = max(1, int(threads))
        self._stack = ExitStack()
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> BatchRunner:
        self._stack.enter_context(one_blas_thread())
        if self.threads > 1:
            self._pool = self._stack.enter_context(ThreadPoolExecutor(max_workers=self.threads))
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def map(self, fn: Callable, items: Iterable) -> Iterable:
        return map(fn, items) if self._pool is None else self._pool.map(fn, items)


# (rows, X^T X, X^T t, rating counts, the rows' current values) -> the rows' new values
Solve = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class RowBatches:
    """Ratings grouped by one side (users or movies), in batches of rows with similar counts.

    Rows are taken in order of their rating count (`order`) and cut into batches, each a slice
    `order[start:stop]` padded to `width`, its longest row (at least 1). Two cut rules:

    - `block_entries` given (the explicit fits, whose `sweep` forms a whole batch's normal
      equations at once): padding at most 25% of a batch's ratings plus 4 per row, and at most
      `block_entries` padded entries per batch unless a single row is longer;
    - `block_entries=None` (iALS, which cuts each batch into chunks by memory itself): one batch
      per run of rows whose count is within 25% (+4) of the run's first row.
    """

    indptr: np.ndarray  # (n_rows + 1,) int64: row r's ratings are [indptr[r], indptr[r+1])
    other: np.ndarray  # (nnz + 1,) int32: the other side's index; the last entry (n_other) is padding
    value: np.ndarray | None  # (nnz + 1,) float32: rating - mu, 0 for the padding entry; None: no values
    n_other: int
    counts: np.ndarray  # (n_rows,) int64: ratings per row
    order: np.ndarray  # rows sorted by rating count (stable)
    cuts: list[tuple[int, int, int]]  # (start, stop) into `order`, padded width

    @classmethod
    def both_sides(cls, train: Ratings, mu: float, block_entries: int) -> tuple[RowBatches, RowBatches]:
        """The explicit fits' batches by user and by movie, valued r - mu (float32)."""
        centered = (train.rating - mu).astype(np.float32)
        by_user = cls.build(train.user, train.movie, train.n_users, train.n_movies, centered, block_entries)
        by_movie = cls.build(train.movie, train.user, train.n_movies, train.n_users, centered, block_entries)
        return by_user, by_movie

    @classmethod
    def build(
        cls,
        row: np.ndarray,
        other: np.ndarray,
        n_rows: int,
        n_other: int,
        value: np.ndarray | None = None,
        block_entries: int | None = None,
    ) -> RowBatches:
        """Group the pairs (row[j], other[j]) (with value[j], if given) by row; the cut rule is
        `block_entries`'s (see the class)."""
        # a counting sort in one compiled pass; the extra last entry points at the zero design row
        indptr, other_sorted, value_sorted = group_by_row(row, n_rows, other, n_other, value)
        counts = np.diff(indptr)
        order = np.argsort(counts, kind="stable")
        sorted_counts = np.maximum(counts[order], 1)
        if block_entries is None:
            cuts = _similar_count_cuts(counts[order])
        else:
            cuts = _padded_block_cuts(sorted_counts, block_entries)
        return cls(indptr, other_sorted, value_sorted, n_other, counts, order, cuts)

    def batches(self) -> Iterable[tuple[np.ndarray, int]]:
        """(rows, width) of every batch, in order."""
        for start, stop, width in self.cuts:
            yield self.order[start:stop], width

    def positions(self, rows: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
        """The (len(rows), width) positions of the rows' ratings in `other` and `value`, padded
        with the last position (the padding entry), and the rows' rating counts."""
        begin = self.indptr[rows]
        count = self.indptr[rows + 1] - begin
        offset = np.arange(width)
        return np.where(offset < count[:, None], begin[:, None] + offset, len(self.other) - 1), count

    def gather(self, design: np.ndarray, rows: np.ndarray, width: int) -> np.ndarray:
        """The other side's rows of `design` for each rating of `rows`: (len(rows), width, d),
        zero on the padding. `design` has n_other + 1 rows, the last one zero."""
        if len(rows) == 1 and width == self.counts[rows[0]]:  # one unpadded row: a slice of `other`
            begin = self.indptr[rows[0]]
            index = self.other[begin : begin + width][None, :]
        else:
            pos, _ = self.positions(rows, width)
            index = np.take(self.other, pos)
        # np.take: several times faster than fancy indexing for these gathers (and than np.take
        # with `out=`, measured on the CG chunks)
        return np.take(design, index, axis=0)

    # the compiled kernels win or break even only at small factor counts: at k = 10 a half-sweep
    # is 1.2-1.6x as fast on the medium ratings, 0.9-1.0x on the movies' side with 480K users'
    # factors to read (as at the full size); at k = 16 with 480K users 0.6-0.9x, at k = 21
    # 0.8-0.9x, at k = 50 on the medium ratings 0.7-0.9x: the stacked float32 GEMMs of BLAS
    # compute the whole square of products, but at twice the SIMD width of the kernel's float64
    # (one thread, a busy machine: benchmarks/bench_sweep.py, benchmarks/README.md). In a dbt
    # build they pay more than that: they release the GIL, which the numpy batches held while
    # the other fit (a thread of the same process) waited; fit_bayesian_mf 432 s -> 291 s there.
    KERNEL_MAX_FACTORS = 12

    def sweep(
        self,
        design: np.ndarray,
        solve: Solve,
        out: np.ndarray,
        runner: BatchRunner,
        errors: tuple[float, float, float] | None = None,
        kernel: bool | None = None,
    ) -> tuple[float, float]:
        """Update every row: out[rows] = solve(rows, X^T X, X^T t, n, out[rows]) per batch, where X holds the
        design rows [1, factors] of the other side and t = r - mu - (other side's bias).

        With `errors` = (mu, rating_min, rating_max), also return the training sums of squared
        errors of the model with the new rows: unclipped, and with predictions clipped to the
        rating range (as `predict` answers); else (0, 0).

        `design` is the other side's (n_other, k+1) [bias, factors] array. `kernel`: form the
        sums with the compiled kernels (movierec.models._sweep_kernel: straight from the CSR,
        float64 sums) or with a padded gather and stacked float32 GEMMs; by default the kernels
        up to `KERNEL_MAX_FACTORS` factors. The two agree to float32 rounding."""
        n_other, d = design.shape
        assert n_other == self.n_other
        assert self.value is not None, "sweep needs the ratings' values"
        if kernel is None:
            kernel = d - 1 <= self.KERNEL_MAX_FACTORS
        batch = self._kernel_batch if kernel else self._gemm_batch
        sums = list(runner.map(batch(design, solve, out, errors), self.cuts))
        return math.fsum(a for a, _ in sums), math.fsum(b for _, b in sums)

    def _kernel_batch(self, design, solve, out, errors) -> Callable[[tuple[int, int, int]], tuple[float, float]]:
        """`sweep`'s step for one batch with the compiled kernels (they release the GIL)."""
        d = design.shape[1]
        design = np.ascontiguousarray(design, dtype=np.float32)
        if errors is not None:
            mu, low, high = (float(x) for x in errors)

        def run(cut: tuple[int, int, int]) -> tuple[float, float]:
            start, stop, _ = cut
            rows = self.order[start:stop]
            count = self.counts[rows]
            gram = np.empty((len(rows), d, d), dtype=np.float32)
            rhs = np.empty((len(rows), d), dtype=np.float32)
            # the gathered design rows, kept for the errors: read again in order, not gathered again
            kept = np.empty((int(count.sum()) if errors is not None else 0, d + 1), dtype=np.float32)
            normal_equations(self.indptr, self.other, self.value, design, rows, gram, rhs, kept)
            out[rows] = solve(rows, gram, rhs, count, out[rows])
            if errors is None:
                return 0.0, 0.0
            new = np.ascontiguousarray(out[rows], dtype=np.float32)
            return squared_errors(self.indptr, self.value, rows, kept, new, mu, low, high)

        return run

    def _gemm_batch(self, design, solve, out, errors) -> Callable[[tuple[int, int, int]], tuple[float, float]]:
        """`sweep`'s step for one batch with numpy: the batch gathered padded to its width (one
        `np.take`), then stacked float32 GEMMs (BLAS, which releases the GIL)."""
        n_other, d = design.shape
        ext = np.zeros((n_other + 1, d), dtype=np.float32)  # [1, factors]; the last row is padding
        ext[:n_other, 0] = 1.0
        ext[:n_other, 1:] = design[:, 1:]
        other_bias = np.zeros(n_other + 1, dtype=np.float32)
        other_bias[:n_other] = design[:, 0]

        def run(cut: tuple[int, int, int]) -> tuple[float, float]:
            start, stop, width = cut
            rows = self.order[start:stop]
            pos, count = self.positions(rows, width)
            other = np.take(self.other, pos)
            x = np.take(ext, other, axis=0)  # (batch, width, k+1)
            value = np.take(self.value, pos)  # (batch, width): r - mu
            t = value - np.take(other_bias, other)
            xt = x.transpose(0, 2, 1)
            gram = np.matmul(xt, x)
            rhs = np.matmul(xt, t[:, :, None])[:, :, 0]
            w = solve(rows, gram, rhs, count, out[rows])
            out[rows] = w
            if errors is None:
                return 0.0, 0.0
            fit = np.matmul(x, w[:, :, None])[:, :, 0]  # b_this + p . q, 0 on padding
            residual = t - fit
            mu, low, high = errors
            clipped = np.clip(value - residual + mu, low, high) - (value + mu)  # clip(prediction) - r
            clipped[np.arange(width)[None, :] >= count[:, None]] = 0.0
            return (
                float(np.einsum("bn,bn->", residual, residual, dtype=np.float64)),
                float(np.einsum("bn,bn->", clipped, clipped, dtype=np.float64)),
            )

        return run


def _padded_block_cuts(sorted_counts: np.ndarray, block_entries: int) -> list[tuple[int, int, int]]:
    """The explicit fits' rule (see `RowBatches`); `sorted_counts` are at least 1."""
    n_rows = len(sorted_counts)
    total = np.concatenate([[0], np.cumsum(sorted_counts)])
    cuts = []
    start = 0
    while start < n_rows:
        # candidate ends of this batch; the first that breaks a limit ends it
        stops = np.arange(start + 1, min(n_rows, start + max(block_entries // int(sorted_counts[start]), 1)) + 1)
        rows = stops - start
        padded = rows * sorted_counts[stops - 1]
        ok = (padded <= block_entries) & (padded <= 1.25 * (total[stops] - total[start]) + 4 * rows)
        ok[0] = True  # a single row always fits
        stop = int(stops[-1] if ok.all() else stops[np.argmin(ok) - 1])
        cuts.append((start, stop, int(sorted_counts[stop - 1])))
        start = stop
    return cuts


def _similar_count_cuts(sorted_counts: np.ndarray) -> list[tuple[int, int, int]]:
    """iALS's rule (see `RowBatches`): runs of rows whose count is within 25% (+4) of the first."""
    n_rows = len(sorted_counts)
    cuts = []
    start = 0
    while start < n_rows:
        stop = int(np.searchsorted(sorted_counts, int(sorted_counts[start] * 1.25) + 4, side="right"))
        stop = max(stop, start + 1)
        cuts.append((start, stop, max(int(sorted_counts[stop - 1]), 1)))
        start = stop
    return cuts


def stable_argsort(keys: np.ndarray, n_keys: int) -> np.ndarray:
    """np.argsort(keys, kind="stable") for keys in [0, n_keys), as a radix sort on 16-bit digits
    (least significant first): numpy radix-sorts 16-bit keys in linear time, which is several
    times faster than its merge sort on 100M int32 keys."""
    keys = np.asarray(keys)
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    shift = 16
    while n_keys - 1 >> shift:
        digit = ((keys[order] >> shift) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
        shift += 16
    return order
