"""benchmarks/bench_spark.py's own logic, without running dbt or Spark: the slowest parts of a
stage read from dbt's run_results.json and from fit-spark's JSON line, the side-by-side table,
and the refusal of an unknown engine."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

BENCHMARKS = PROJECT_ROOT / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCHMARKS))
        yield importlib.import_module("bench_spark")


def run_results(folder, times: dict[str, float]):
    path = folder / "run_results.json"
    results = [
        {"unique_id": f"model.movierec.{name}", "execution_time": s, "status": "success"} for name, s in times.items()
    ]
    path.write_text(json.dumps({"metadata": {}, "results": results, "elapsed_time": 12.5}))
    return path


def test_slowest_nodes_are_the_top_five_slowest_first_equal_times_by_name(bench, tmp_path):
    path = run_results(
        tmp_path,
        {
            "stg_a": 0.1,
            "model_runs": 2.5,
            "movie_factors": 7.0,
            "similar_movies": 2.5,
            "fct_ratings": 3.0,
            "user_factors": 0.4,
            "user_recommendations": 9.25,
        },
    )
    slowest, count, elapsed = bench.slowest_nodes(path)
    assert slowest == [
        ("user_recommendations", 9.25),
        ("movie_factors", 7.0),
        ("fct_ratings", 3.0),
        ("model_runs", 2.5),
        ("similar_movies", 2.5),
    ]
    assert (count, elapsed) == (7, 12.5)
    assert bench.slowest_nodes(path, top=1) == ([("user_recommendations", 9.25)], 7, 12.5)


def test_a_missing_or_foreign_run_results_is_an_error_naming_the_file(bench, tmp_path):
    with pytest.raises(SystemExit, match=r"run_results\.json: not found"):
        bench.slowest_nodes(tmp_path / "run_results.json")
    bad = tmp_path / "run_results.json"
    bad.write_text('{"results": [{"unique_id": "model.movierec.x"}], "elapsed_time": 1.0}')
    with pytest.raises(SystemExit, match=r"run_results\.json: not a dbt run_results\.json \(KeyError"):
        bench.slowest_nodes(bad)
    bad.write_text("{not json")
    with pytest.raises(SystemExit, match="not a dbt run_results.json"):
        bench.slowest_nodes(bad)


def test_slowest_fits_read_fit_sparks_last_line(bench, tmp_path):
    output = tmp_path / "output.txt"
    fits = {
        "bias_baseline": {"fit_seconds": 49.0, "probe_rmse": 0.9},
        "biased_mf": {"fit_seconds": 157.5, "probe_rmse": 0.88},
        "ials": {"fit_seconds": 79.0, "probe_rmse": None},
    }
    output.write_text("some log line\n" + json.dumps(fits) + "\n")
    assert bench.slowest_fits(output) == (
        [("biased_mf (fit)", 157.5), ("ials (fit)", 79.0), ("bias_baseline (fit)", 49.0)],
        3,
    )
    output.write_text("fit-spark: 1,000 training ratings\n")
    with pytest.raises(SystemExit, match="output.txt: the last line is not fit-spark's JSON"):
        bench.slowest_fits(output)


def stage(bench, engine, step, seconds, peak=1.0):
    return bench.Stage(engine, bench.Result(step, seconds, peak))


def test_side_by_side_adds_up_and_compares_the_engines(bench):
    stages = [
        stage(bench, "duckdb", step, s, peak) for step, s, peak in zip(bench.STAGES, [1, 2, 3, 4], [0.5, 1.5, 2.5, 1.0])
    ]
    # Spark stopped before its last stage: that row shows "-" and the total adds what ran
    stages += [stage(bench, "spark", step, s) for step, s in zip(bench.STAGES[:3], [2, 10, 30])]
    lines = bench.side_by_side(stages, ["duckdb", "spark"])
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    assert cells[0] == ["stage", "DuckDB s", "Spark local s", "Spark / DuckDB", "DuckDB peak GB"]
    assert cells[2] == ["ingest", "1.0", "2.0", "2.0x", "0.50"]
    assert cells[4] == ["fits", "3.0", "30.0", "10.0x", "2.50"]
    assert cells[5] == ["serving + evaluation marts", "4.0", "-", "-", "1.00"]
    assert cells[6] == ["total", "10.0", "42.0", "4.2x", "2.50"]

    alone = [
        [cell.strip() for cell in line.strip("|").split("|")] for line in bench.side_by_side(stages[4:], ["spark"])
    ]
    assert alone[0] == ["stage", "Spark local s"]
    assert alone[-1] == ["total", "42.0"]


def test_an_unknown_engine_is_refused_before_anything_runs():
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_spark.py"), "--engines", "duckdb,mysql"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 2
    assert "--engines: mysql: choose from duckdb,spark" in done.stderr
