"""Benchmark: build the exploration marts (and their parents) on the full-size warehouse.

Target (issue "exploration marts"): `dbt run` of every exploration mart and its parents
(staging views, int_ratings_subset, fct_ratings, the per-movie and per-user stats tables,
dim_movies, dim_users and the mart_* tables) on 100,480,507 ratings in at most 60 s and 8 GB
peak memory on a 2-core machine. Data tests are timed separately (no target), with --tests.

    .venv/bin/python benchmarks/bench_ingest.py           # once: writes benchmarks/.cache/full.duckdb
    .venv/bin/python benchmarks/bench_marts.py            # models only
    .venv/bin/python benchmarks/bench_marts.py --tests    # models, then their data tests
    .venv/bin/python benchmarks/bench_marts.py --repeat 3 # the models three times (each on a fresh copy)
    .venv/bin/python benchmarks/bench_marts.py --warehouse benchmarks/.cache/demo.duckdb   # any other scale

The warehouse is copied to benchmarks/.cache/marts/ first (not timed), so the source stays as
ingestion left it; dbt writes its target and logs there too. The machine is shared: repeat
(--repeat) and read the spread, not one number.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import duckdb
from _harness import BIN, CACHE, print_table, run

MARTS = [
    "dim_movies",
    "dim_users",
    "mart_user_activity",
    "mart_user_activity_summary",
    "mart_rating_distribution",
    "mart_ratings_over_time",
    "mart_top_movies",
    "mart_long_tail",
    "mart_long_tail_summary",
    "mart_release_years",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=CACHE / "full.duckdb",
        help="an ingested warehouse (default: benchmarks/.cache/full.duckdb from bench_ingest.py)",
    )
    parser.add_argument("--tests", action="store_true", help="also time the data tests of these models (no target)")
    parser.add_argument("--repeat", type=int, default=1, help="time the models this many times, each on a fresh copy")
    parser.add_argument("--target-seconds", type=float, default=60)
    parser.add_argument("--target-gb", type=float, default=8)
    args = parser.parse_args()
    source = args.warehouse.resolve()
    if not source.exists():
        raise SystemExit(f"[bench] {source} not found: run benchmarks/bench_ingest.py first (or pass --warehouse)")

    work = CACHE / "marts"
    # same file name: DuckDB names the catalog after the file, and dbt's relations carry it
    warehouse = work / source.name
    env = {"MOVIEREC_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    paths = ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    select = ["--select", *[f"+{m}" for m in MARTS]]
    results = []
    for attempt in range(1, args.repeat + 1):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        print(f"[bench] copying {source} to {warehouse}", file=sys.stderr, flush=True)
        shutil.copy(source, warehouse)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            (ratings,) = con.execute("select count(*) from raw.ratings").fetchone()
        results.append(
            run(
                f"dbt run +exploration marts ({ratings:,} ratings)",
                [BIN / "dbt", "run", *select, *paths, "--quiet"],
                env=env,
                target_seconds=args.target_seconds,
                target_gb=args.target_gb,
                note=f"models only, run {attempt}/{args.repeat}",
            )
        )
    models = json.loads((work / "target" / "run_results.json").read_text())["results"]
    if args.tests:
        results.append(
            run(
                "dbt test (their data tests)",
                [
                    BIN / "dbt",
                    "test",
                    *select,
                    "--indirect-selection",
                    "cautious",
                    "--exclude",
                    "test_type:unit",
                    *paths,
                    "--quiet",
                ],
                env=env,
                note="not in the target",
            )
        )

    print("\nPer model, last run (dbt run_results.json, seconds):")
    for result in sorted(models, key=lambda r: -r["execution_time"]):
        print(f"  {result['unique_id'].split('.')[-1]:<32} {result['execution_time']:7.2f}")
    print_table(f"Exploration marts benchmark ({ratings:,} ratings; 2 cores)", results)


if __name__ == "__main__":
    main()
