"""The same dbt project on Apache Spark (issue 15): `dbt build --target spark` on the tiny sample,
in local mode, against the DuckDB build of the same sample.

One Spark build per module (a dbt subprocess: its JVM starts once, about 30 s). Spark reads the
raw tables as Parquet files written by ingestion's Parquet sink from the DuckDB warehouse's raw
schema, so both engines start from the same rows. Every table Spark materialized is compared
with DuckDB's: exact row counts, every value equal, floats within 1e-9. The split is compared
row by row (int_ratings_train and int_ratings_test are tables on both engines).
Skipped when pyspark or Java is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from movierec.ingest.parquet import write_raw_parquet
from movierec.parity import compare_with_parquet
from tests.conftest import PROJECT_ROOT, query

pyspark = pytest.importorskip("pyspark")

JAVA = shutil.which("java") or (Path(os.environ.get("JAVA_HOME", "/nonexistent")) / "bin" / "java")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(JAVA).exists(), reason="Java is missing (make java installs OpenJDK 17)"),
]

# The tables Spark builds (the table-materialized models of staging, intermediate and marts);
# every one of them is compared with DuckDB's.
SPARK_TABLES = [
    "dim_movie_genres",
    "dim_movies",
    "dim_users",
    "fct_ratings",
    "int_movie_rating_stats",
    "int_ratings_test",
    "int_ratings_train",
    "int_ratings_train_by_movie",
    "int_ratings_train_by_user",
    "int_user_rating_stats",
    "mart_long_tail",
    "mart_long_tail_summary",
    "mart_rating_distribution",
    "mart_ratings_over_time",
    "mart_release_years",
    "mart_top_movies",
    "mart_user_activity",
    "mart_user_activity_summary",
]


@pytest.fixture(scope="module")
def spark_build(tiny_marts, tmp_path_factory) -> dict:
    """The tiny sample's raw tables as Parquet (the ingest sink), then `dbt build --target spark`."""
    tmp = tmp_path_factory.mktemp("spark")
    spark_dir = tmp / "spark"
    with duckdb.connect(str(tiny_marts), read_only=True) as con:
        counts = write_raw_parquet(con, spark_dir / "raw")
    env = {
        **os.environ,
        "MOVIEREC_SPARK_DIR": str(spark_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    cmd = [
        str(Path(sys.executable).parent / "dbt"),
        "build",
        "--target",
        "spark",
        "--target-path",
        str(tmp / "target"),
        "--log-path",
        str(tmp / "logs"),
    ]
    result = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    results = json.loads((tmp / "target" / "run_results.json").read_text())["results"]
    return {"dir": spark_dir, "raw_counts": counts, "results": results, "duckdb": tiny_marts}


def test_spark_build_runs_every_portable_model_and_passes_the_data_tests(spark_build):
    results = spark_build["results"]
    statuses = {r["status"] for r in results}
    assert statuses <= {"success", "pass"}, statuses
    tests = [r for r in results if r["unique_id"].startswith(("test.", "unit_test."))]
    models = {r["unique_id"].split(".")[-1] for r in results if r["unique_id"].startswith("model.")}
    assert len(tests) >= 100
    assert set(SPARK_TABLES) <= models
    assert {"stg_ingest__ratings", "int_ratings_split", "int_ratings_subset"} <= models
    # the fits and what reads them are DuckDB-only for now (dbt_project.yml), and say so
    assert not any(name.startswith("fit_") for name in models)


def test_spark_materialized_exactly_the_expected_tables(spark_build):
    built = sorted(p.name for p in (spark_build["dir"] / "tables" / "movierec.db").iterdir() if p.is_dir())
    assert built == sorted(SPARK_TABLES)


@pytest.mark.parametrize("table", SPARK_TABLES)
def test_spark_table_equals_duckdb(spark_build, table):
    diff = compare_with_parquet(spark_build["duckdb"], table, spark_build["dir"] / "tables" / "movierec.db" / table)
    assert diff.ok, "\n".join(diff.problems)
    assert diff.rows_a > 0


def test_the_split_holds_out_the_same_pairs(spark_build):
    folder = spark_build["dir"] / "tables" / "movierec.db"
    for part in ("int_ratings_train", "int_ratings_test"):
        duck = query(spark_build["duckdb"], f"select user_id, movie_id from main.{part} order by all")
        spark = query(
            spark_build["duckdb"],
            "select user_id, movie_id from read_parquet(?) order by all",
            [str(folder / part / "*.parquet")],
        )
        assert duck == spark and len(duck) > 0


def test_raw_parquet_holds_the_warehouse_raw_tables(spark_build):
    for table, count in spark_build["raw_counts"].items():
        assert query(spark_build["duckdb"], f"select count(*) from raw.{table}")[0][0] == count
    assert spark_build["raw_counts"]["ratings"] > 0
