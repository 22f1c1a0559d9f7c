"""Benchmark: fit the biased MF (k = 50, 10 ALS epochs) on the full-size generated dataset.

Target (issue "Models and evaluation"): at most 10 minutes and 12 GB peak memory on this
2-core machine for 100M ratings. Reads the warehouse made by benchmarks/bench_ingest.py
(benchmarks/.cache/full.duckdb), holds the probe pairs out exactly as int_ratings_split does,
fits, and prints the probe RMSE next to the bias baseline's.

    .venv/bin/python benchmarks/bench_mf_full.py [--warehouse FILE] [--epochs N]
"""

from __future__ import annotations

import argparse
import sys
import time

from _harness import CACHE, print_table, run


def child(warehouse: str, epochs: int) -> None:
    """The measured process: load train/probe from the warehouse, fit, report."""
    import duckdb

    from movierec.metrics import rmse
    from movierec.models.baselines import BiasBaseline
    from movierec.models.data import Ratings
    from movierec.models.mf import BiasedMF

    started = time.perf_counter()
    con = duckdb.connect(warehouse, read_only=True)
    train = Ratings.from_arrow(
        con.sql(
            "select user_id, movie_id, rating from raw.ratings anti join raw.probe using (user_id, movie_id)"
        ).arrow()
    )
    probe = con.sql(
        "select user_id, movie_id, rating from raw.ratings semi join raw.probe using (user_id, movie_id)"
    ).fetchnumpy()
    con.close()
    print(
        f"loaded {len(train):,} training and {len(probe['rating']):,} probe ratings "
        f"in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    baseline = BiasBaseline().fit(train)
    mf = BiasedMF(n_factors=50, epochs=epochs, seed=42, verbose=True).fit(train)
    for model in (baseline, mf):
        error = rmse(model.predict(probe["user_id"], probe["movie_id"]), probe["rating"])
        print(f"{model.name}: fit {model.fit_seconds:.0f} s, probe RMSE {error:.4f}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", default=str(CACHE / "full.duckdb"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.warehouse, args.epochs)
        return
    result = run(
        "biased MF k=50 on 100M ratings (load, bias baseline, fit, probe RMSE)",
        [sys.executable, __file__, "--child", "--warehouse", args.warehouse, "--epochs", str(args.epochs)],
        target_seconds=600,
        target_gb=12,
    )
    print_table("Matrix factorization at full size (2 cores, 24 GB)", [result])


if __name__ == "__main__":
    main()
