"""Benchmark: generate the full-size Netflix-shaped dataset, ingest it, and run the demo pipeline.

Targets (issue "Foundation"): generating the full size (100,480,507 ratings) in at most 3
minutes; ingesting it in at most 90 s and 4 GB peak memory; the demo pipeline (generate,
ingest, dbt build) in at most 2 minutes once dependencies are installed.

    .venv/bin/python benchmarks/bench_ingest.py            # everything (needs ~5 GB of disk)
    .venv/bin/python benchmarks/bench_ingest.py --skip-full  # only the demo pipeline

The full-size files are kept in benchmarks/.cache/full (git-ignored) and reused unless
--regenerate is given; the warehouse is always rebuilt.
"""

from __future__ import annotations

import argparse
import shutil

from _harness import BIN, CACHE, print_table, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-full", action="store_true", help="only the demo pipeline")
    parser.add_argument("--regenerate", action="store_true", help="regenerate the full-size files even if cached")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    results = []

    if not args.skip_full:
        full = CACHE / "full"
        if args.regenerate or not (full / "combined_data_4.txt").exists():
            shutil.rmtree(full, ignore_errors=True)
            results.append(
                run(
                    "generate full (100,480,507 ratings)",
                    [BIN / "movierec", "generate", "--size", "full", "--out", full],
                    target_seconds=180,
                )
            )
        warehouse = CACHE / "full.duckdb"
        warehouse.unlink(missing_ok=True)
        results.append(
            run(
                "ingest full (combined_data_1..4, titles, probe)",
                [BIN / "movierec", "ingest", full, "--warehouse", warehouse],
                target_seconds=90,
                target_gb=4,
            )
        )

    demo = CACHE / "demo"
    shutil.rmtree(demo, ignore_errors=True)
    demo_wh = CACHE / "demo.duckdb"
    demo_wh.unlink(missing_ok=True)
    env = {"MOVIEREC_WAREHOUSE": str(demo_wh)}
    steps = [
        run("demo: generate", [BIN / "movierec", "generate", "--size", "demo", "--out", demo]),
        run("demo: ingest", [BIN / "movierec", "ingest", demo], env=env),
        run("demo: dbt build", [BIN / "dbt", "build", "--quiet"], env=env),
    ]
    results += steps
    total = sum(r.seconds for r in steps)
    from _harness import Result

    results.append(Result("demo pipeline total (make demo without setup)", total, max(r.peak_gb for r in steps), 120))
    print_table("Ingestion benchmark (2 cores, 24 GB)", results)


if __name__ == "__main__":
    main()
