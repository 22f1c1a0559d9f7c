"""Benchmark: one `RowBatches.sweep` (the explicit alternating fits' half-sweep) against the former
numpy formulation, per side and factor count, on the training ratings of a built warehouse.

`sweep` forms each batch's normal equations with a compiled kernel straight from the CSR
(movierec.models._sweep_kernel) and sums the training errors in another. Before, each batch was
gathered padded to its longest row, (batch, width, k+1) float32, and X^T X, X^T t and the errors
were stacked float32 GEMMs; that formulation is kept here, as `former_sweep`, to compare against.
Both run on one thread with the same exact ridge solve, and the new rows are checked to agree:

    .venv/bin/python benchmarks/bench_sweep.py --warehouse medium-build.duckdb --factors 10 21 50

Prints the seconds of each (best of `--repeat`), and the largest difference of the new rows
and of the training RMSE.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from movierec.models.rows import BatchRunner, RowBatches


def former_sweep(batches: RowBatches, design, solve, out, errors):
    """`RowBatches.sweep` as it was before the kernel: a padded gather and stacked float32 GEMMs."""
    n_other, d = design.shape
    ext = np.zeros((n_other + 1, d), dtype=np.float32)
    ext[:n_other, 0] = 1.0
    ext[:n_other, 1:] = design[:, 1:]
    other_bias = np.zeros(n_other + 1, dtype=np.float32)
    other_bias[:n_other] = design[:, 0]
    mu, low, high = errors
    sums = []
    for start, stop, width in batches.cuts:
        rows = batches.order[start:stop]
        pos, count = batches.positions(rows, width)
        other = np.take(batches.other, pos)
        x = np.take(ext, other, axis=0)
        value = np.take(batches.value, pos)
        t = value - np.take(other_bias, other)
        xt = x.transpose(0, 2, 1)
        w = solve(rows, np.matmul(xt, x), np.matmul(xt, t[:, :, None])[:, :, 0], count, out[rows])
        out[rows] = w
        residual = t - np.matmul(x, w[:, :, None])[:, :, 0]
        clipped = np.clip(value - residual + mu, low, high) - (value + mu)
        clipped[np.arange(width)[None, :] >= count[:, None]] = 0.0
        sums.append(
            (
                float(np.einsum("bn,bn->", residual, residual, dtype=np.float64)),
                float(np.einsum("bn,bn->", clipped, clipped, dtype=np.float64)),
            )
        )
    return math.fsum(a for a, _ in sums), math.fsum(b for _, b in sums)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--factors", type=int, nargs="+", default=[10, 21, 50])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import duckdb

    from movierec.models.blas import one_blas_thread_for_this_process
    from movierec.models.data import training_ratings
    from movierec.models.mf import _ridge_solve

    one_blas_thread_for_this_process()
    con = duckdb.connect(args.warehouse, read_only=True)
    train = training_ratings(con.table("int_ratings_train"))
    mu = train.global_mean
    by_user, by_movie = RowBatches.both_sides(train, mu, 1 << 16)
    errors = (mu, 1.0, 5.0)
    rng = np.random.default_rng(0)
    table = []
    for k in args.factors:
        penalty = np.full(k + 1, 0.05)

        def solve(rows, gram, rhs, count, current, penalty=penalty):
            return _ridge_solve(gram, rhs, penalty, count, True, current, None)

        for side, batches, n_other in (("users", by_user, train.n_movies), ("movies", by_movie, train.n_users)):
            design = np.c_[rng.normal(0, 0.1, n_other), rng.normal(0, 0.3, (n_other, k))].astype(np.float32)
            n_rows = len(batches.counts)
            seconds = {}
            result = {}
            for name in ("former", "kernel"):
                best = math.inf
                for _ in range(args.repeat):
                    out = np.zeros((n_rows, k + 1), dtype=np.float32)
                    started = time.perf_counter()
                    if name == "former":
                        sse, _ = former_sweep(batches, design, solve, out, errors)
                    else:
                        with BatchRunner(1, len(train)) as runner:
                            sse, _ = batches.sweep(design, solve, out, runner, errors=errors)
                    best = min(best, time.perf_counter() - started)
                seconds[name] = best
                result[name] = (out, math.sqrt(sse / len(train)))
            rows_diff = float(np.abs(result["former"][0] - result["kernel"][0]).max())
            rmse_diff = abs(result["former"][1] - result["kernel"][1])
            table.append(
                (
                    str(k),
                    side,
                    f"{seconds['former']:.2f}",
                    f"{seconds['kernel']:.2f}",
                    f"{seconds['former'] / seconds['kernel']:.1f}x",
                    f"{rows_diff:.1e}",
                    f"{rmse_diff:.1e}",
                )
            )
            print("  ".join(table[-1]), flush=True)
    header = ("k", "side", "former s", "kernel s", "speed-up", "max |row diff|", "|train RMSE diff|")
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    print()
    for r in [header, tuple("-" * w for w in widths), *table]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
