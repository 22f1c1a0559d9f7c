"""Benchmark: one `RowBatches.sweep` (the explicit alternating fits' half-sweep) with its two ways
of forming the normal equations, per side and factor count, on the training ratings of a built warehouse.

`kernel=True`: compiled kernels form each batch's normal equations straight from the CSR and sum
the training errors (movierec.models._sweep_kernel, float64 sums). `kernel=False`: each batch is
gathered padded to its longest row, (batch, width, k+1) float32, and X^T X, X^T t and the errors
are stacked float32 GEMMs (the only way before the kernels). Both run on one thread with the same
exact ridge solve, and the new rows are checked to agree; `sweep` picks by the factor count
(`RowBatches.KERNEL_MAX_FACTORS`):

    .venv/bin/python benchmarks/bench_sweep.py --warehouse medium-build.duckdb --factors 10 21 50

Prints the seconds of each (best of `--repeat`), and the largest difference of the new rows
and of the training RMSE. `--spread 10` spreads each user's ratings over 10 user indices at
random, so the movies' half-sweep reads 480K users' factors, as at the full size (the users'
half-sweep then has 10x the rows with a tenth of the ratings each).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from movierec.models.rows import BatchRunner, RowBatches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--factors", type=int, nargs="+", default=[10, 21, 50])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--spread",
        type=int,
        default=1,
        help="give each user this many random slots (10: the full size's 480K users' factors to read)",
    )
    args = parser.parse_args()

    import duckdb

    from movierec.models.blas import one_blas_thread_for_this_process
    from movierec.models.data import training_ratings
    from movierec.models.mf import _ridge_solve

    one_blas_thread_for_this_process()
    con = duckdb.connect(args.warehouse, read_only=True)
    train = training_ratings(con.table("int_ratings_train"))
    mu = train.global_mean
    if args.spread > 1:  # the same ratings, each user's spread over `spread` user indices at random
        spread = np.random.default_rng(1).integers(0, args.spread, len(train))
        user = (train.user.astype(np.int64) * args.spread + spread).astype(np.int32)
        n_users = train.n_users * args.spread
        centered = (train.rating - mu).astype(np.float32)
        by_user = RowBatches.build(user, train.movie, n_users, train.n_movies, centered, 1 << 16)
        by_movie = RowBatches.build(train.movie, user, train.n_movies, n_users, centered, 1 << 16)
    else:
        n_users = train.n_users
        by_user, by_movie = RowBatches.both_sides(train, mu, 1 << 16)
    errors = (mu, 1.0, 5.0)
    rng = np.random.default_rng(0)
    table = []
    for k in args.factors:
        penalty = np.full(k + 1, 0.05)

        def solve(rows, gram, rhs, count, current, penalty=penalty):
            return _ridge_solve(gram, rhs, penalty, count, True, current, None)

        for side, batches, n_other in (("users", by_user, train.n_movies), ("movies", by_movie, n_users)):
            design = np.c_[rng.normal(0, 0.1, n_other), rng.normal(0, 0.3, (n_other, k))].astype(np.float32)
            n_rows = len(batches.counts)
            seconds = {}
            result = {}
            for name in ("gemm", "kernel"):
                best = math.inf
                for _ in range(args.repeat):
                    out = np.zeros((n_rows, k + 1), dtype=np.float32)
                    started = time.perf_counter()
                    with BatchRunner(1, len(train)) as runner:
                        sse, _ = batches.sweep(design, solve, out, runner, errors=errors, kernel=name == "kernel")
                    best = min(best, time.perf_counter() - started)
                seconds[name] = best
                result[name] = (out, math.sqrt(sse / len(train)))
            rows_diff = float(np.abs(result["gemm"][0] - result["kernel"][0]).max())
            rmse_diff = abs(result["gemm"][1] - result["kernel"][1])
            table.append(
                (
                    str(k),
                    side,
                    f"{seconds['gemm']:.2f}",
                    f"{seconds['kernel']:.2f}",
                    f"{seconds['gemm'] / seconds['kernel']:.1f}x",
                    f"{rows_diff:.1e}",
                    f"{rmse_diff:.1e}",
                )
            )
            print("  ".join(table[-1]), flush=True)
    header = ("k", "side", "GEMM s", "kernel s", "speed-up", "max |row diff|", "|train RMSE diff|")
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    print()
    for r in [header, tuple("-" * w for w in widths), *table]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
