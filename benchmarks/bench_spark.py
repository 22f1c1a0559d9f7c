"""Benchmark: the same pipeline on DuckDB and on local Spark, side by side (issue 15).

Stages, each a separate process timed from outside (wall time and peak memory of its process tree):

    ingest        DuckDB: `movierec ingest`     Spark: `movierec ingest --parquet` (the same parse,
                                                plus the raw tables written as Parquet)
    SQL models    `dbt run` of every portable model (staging, intermediate, marts) on each target
    fits          DuckDB: `dbt run` of fit_bias_baseline, fit_biased_mf, fit_ials (movierec's numpy
                  fits); Spark: `movierec fit-spark` (Spark SQL baseline, MLlib ALS, ALS implicitPrefs)

Peak memory is shown for DuckDB only: the Spark stages' JVM is a grandchild that pyspark does not
wait for, so the kernel's count for the stage's process tree leaves it out.
Every Spark stage pays the JVM's start and the Derby metastore's, measured alone on the last line
(a SparkSession that runs `select 1`), so the per-stage costs can be read with or without it.

    .venv/bin/python benchmarks/bench_spark.py --size demo     # about 1M ratings
    .venv/bin/python benchmarks/bench_spark.py --size medium   # a tenth of Netflix, 10M ratings

Samples are generated once into benchmarks/.cache/<size> (git-ignored) and reused; the warehouses
(benchmarks/.cache/<size>-spark-bench.duckdb and benchmarks/.cache/spark-<size>/) are rebuilt.
"""

from __future__ import annotations

import argparse
import shutil
import sys

from _harness import BIN, CACHE, Result, run

PORTABLE = ["path:models/staging", "path:models/intermediate", "path:models/marts"]
FITS = ["fit_bias_baseline", "fit_biased_mf", "fit_ials"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="demo", choices=["tiny", "demo", "medium", "full"])
    parser.add_argument("--spark-memory", default="4g", help="the local Spark driver's heap (MOVIEREC_SPARK_MEMORY)")
    args = parser.parse_args()

    sample = CACHE / args.size
    if not (sample / ".done").exists():
        run("generate", [BIN / "movierec", "generate", "--size", args.size, "--out", sample])
        (sample / ".done").touch()
    warehouse = CACHE / f"{args.size}-spark-bench.duckdb"
    spark_dir = CACHE / f"spark-{args.size}"
    for path in (warehouse, spark_dir):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    env = {
        "MOVIEREC_WAREHOUSE": str(warehouse),
        "MOVIEREC_SPARK_DIR": str(spark_dir),
        "MOVIEREC_SPARK_MEMORY": args.spark_memory,
    }
    dbt = [BIN / "dbt", "run", "--target-path", CACHE / "spark-bench-target", "--log-path", CACHE / "spark-bench-logs"]

    duck: list[Result] = []
    spark: list[Result] = []
    duck.append(run("ingest", [BIN / "movierec", "ingest", sample, "--warehouse", warehouse], env=env))
    spark.append(
        run(
            "ingest",
            [BIN / "movierec", "ingest", sample, "--warehouse", warehouse, "--parquet", spark_dir / "raw"],
            env=env,
        )
    )
    duck.append(run("SQL models", [*dbt, "--select", *PORTABLE], env=env))
    duck.append(run("fits", [*dbt, "--select", *FITS], env=env))
    spark.append(run("SQL models", [*dbt, "--target", "spark", "--select", *PORTABLE], env=env))
    spark.append(run("fits", [BIN / "movierec", "fit-spark"], env=env))
    startup = run(
        "JVM + metastore start",
        [
            BIN / "python",
            "-c",
            "from movierec.spark_fit import spark_session; spark_session().sql('select 1').collect()",
        ],
        env=env,
    )

    rows = [("stage", "DuckDB s", "Spark local s", "Spark / DuckDB", "DuckDB peak GB")]
    for d, s in zip(duck, spark):
        rows.append(
            (
                d.step,
                f"{d.seconds:.1f}",
                f"{s.seconds:.1f}",
                f"{s.seconds / d.seconds:.1f}x",
                f"{d.peak_gb:.2f}",
            )
        )
    total_d, total_s = sum(r.seconds for r in duck), sum(r.seconds for r in spark)
    rows.append(("total", f"{total_d:.1f}", f"{total_s:.1f}", f"{total_s / total_d:.1f}x", ""))
    rows.append(("(Spark JVM + metastore start, in each Spark stage but ingest)", "", f"{startup.seconds:.1f}", "", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print(f"\nbench_spark: size {args.size}, local[2] Spark (driver {args.spark_memory}) against DuckDB (2 threads)")
    for number, row in enumerate(rows):
        print("| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |")
        if number == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return 0


if __name__ == "__main__":
    sys.exit(main())
