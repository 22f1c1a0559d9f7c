"""The same dbt project on Apache Spark (issue 15): `dbt build --target spark` on the tiny sample,
in local mode, against the DuckDB build of the same sample.

One Spark build per module (a subprocess: its JVM starts once, about 30 s), in `make spark-demo`'s
three steps: `dbt build` up to the marts, `movierec fit-spark`, `dbt build` of the serving and
evaluation marts that read the fits. Spark reads the raw tables as Parquet files written by
ingestion's Parquet sink from the DuckDB warehouse's raw schema, so both engines start from the
same rows. Every table of the first build is compared with DuckDB's: exact row counts, every
value equal, floats within 1e-9. The split is compared row by row (int_ratings_train and
int_ratings_test are tables on both engines). The serving and evaluation marts cannot equal
DuckDB's (MLlib fits other factors): they are checked for form (the contract's columns and types,
one list per key, ranks 1..k), and against DuckDB where the numbers must agree (the bias
baseline's runs and metrics, the popularity fallback); the serving API answers from them.
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

# The tables the first Spark build makes (the table-materialized models of staging, intermediate
# and marts, and the two serving tables that do not read the fits); each is compared with DuckDB's.
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
    "popular_movies",
    "serving_user_ratings",
]

SPARK_FITS = ["bias_baseline", "biased_mf", "ials"]  # movierec fit-spark
# Built after the fits, by the second build (the Makefile's SPARK_POST_FIT): what reads them
POST_FIT = "source:spark_fit+"
SERVING_TABLES = [
    "movie_factors",
    "user_factors",
    "model_runs",
    "serving_config",
    "user_recommendations",
    "similar_movies",
]
EVALUATION_TABLES = ["model_predictions", "model_recommendations_eval", "model_user_metrics", "model_metrics",
                     "mart_rmse_by_activity", "mart_leaderboard"]  # fmt: skip
# MLlib's biased MF keeps the baseline's biases fixed and fits ALS on the residuals; ours learns
# biases and factors together. On the tiny sample (446 probe ratings) the two probe RMSEs differ by
# about 0.01 (0.926 against 0.916): the band allows 0.03.
MF_RMSE_BAND = 0.03


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
    # The Makefile's spark-demo in one process (one JVM start, not three): dbt build up to the
    # marts, movierec fit-spark, then dbt build of what reads the fits (serving and evaluation)
    driver = (
        "import json, sys\n"
        "from dbt.cli.main import dbtRunner\n"
        f"result = dbtRunner().invoke(['build', '--target', 'spark', '--target-path', {str(tmp / 'target')!r}, "
        f"'--log-path', {str(tmp / 'logs')!r}, '--exclude', {POST_FIT!r}])\n"
        "if not result.success: sys.exit(3)\n"
        # the second build reuses the first's target folder (partial parsing): keep the first's results
        f"import shutil; shutil.copy({str(tmp / 'target' / 'run_results.json')!r}, {str(tmp / 'pre_fit_results.json')!r})\n"
        # before the fit, a build that selects a reader of the fits stops at the start, with the steps
        f"result = dbtRunner().invoke(['build', '--target', 'spark', '--target-path', {str(tmp / 'target')!r}, "
        f"'--log-path', {str(tmp / 'logs')!r}, '--select', 'model_runs'])\n"
        "messages = [str(result.exception)] + [str(r.message) for r in (result.result or [])]\n"
        "print('EARLY ' + json.dumps({'success': result.success, 'messages': messages}))\n"
        "from movierec.spark_fit import fit_spark\n"
        "print('FIT ' + json.dumps(fit_spark(say=lambda *a: None)))\n"
        f"result = dbtRunner().invoke(['build', '--target', 'spark', '--target-path', {str(tmp / 'target')!r}, "
        f"'--log-path', {str(tmp / 'logs')!r}, '--select', {POST_FIT!r}])\n"
        "if not result.success: sys.exit(4)\n"
        # the random split draws with DuckDB's hash(): on Spark it must stop with a clear message
        f"result = dbtRunner().invoke(['compile', '--target', 'spark', '--target-path', {str(tmp / 'target-random')!r}, "
        "'--select', 'int_ratings_split', '--vars', '{split_strategy: random}'])\n"
        "messages = [str(result.exception)] + [str(r.message) for r in (result.result or [])]\n"
        "print('RANDOM ' + json.dumps({'success': result.success, 'messages': messages}))\n"
    )
    result = subprocess.run([sys.executable, "-c", driver], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    fits = json.loads(next(line[4:] for line in result.stdout.splitlines() if line.startswith("FIT ")))
    random_split = json.loads(next(line[7:] for line in result.stdout.splitlines() if line.startswith("RANDOM ")))
    early = json.loads(next(line[6:] for line in result.stdout.splitlines() if line.startswith("EARLY ")))
    results = json.loads((tmp / "pre_fit_results.json").read_text())["results"]
    post_fit_results = json.loads((tmp / "target" / "run_results.json").read_text())["results"]
    return {
        "dir": spark_dir,
        "raw_counts": counts,
        "results": results,
        "post_fit_results": post_fit_results,
        "duckdb": tiny_marts,
        "fits": fits,
        "random_split": random_split,
        "early": early,
        "log": result.stdout,
    }


def test_a_build_of_the_fits_readers_before_fit_spark_stops_at_once_and_names_the_steps(spark_build):
    early = spark_build["early"]
    assert not early["success"]
    message = " ".join(early["messages"])
    assert "model_runs" in message and "fit_bias_baseline_spark" in message, message
    assert "movierec fit-spark" in message and "--exclude source:spark_fit+" in message, message


def test_spark_build_runs_every_portable_model_and_passes_the_data_tests(spark_build):
    results = spark_build["results"]
    statuses = {r["status"] for r in results}
    assert statuses <= {"success", "pass"}, statuses
    tests = [r for r in results if r["unique_id"].startswith(("test.", "unit_test."))]
    models = {r["unique_id"].split(".")[-1] for r in results if r["unique_id"].startswith("model.")}
    assert len(tests) >= 100
    assert set(SPARK_TABLES) <= models
    assert {"stg_ingest__ratings", "int_ratings_split", "int_ratings_subset"} <= models
    # the first build leaves out the fits (movierec fit-spark) and what reads them (the second build)
    assert not any(name.startswith("fit_") for name in models)


def test_spark_materialized_exactly_the_expected_tables(spark_build):
    built = sorted(p.name for p in (spark_build["dir"] / "tables" / "movierec.db").iterdir() if p.is_dir())
    expected = SPARK_TABLES + SERVING_TABLES + EVALUATION_TABLES
    assert built == sorted(expected + [f"fit_{name}_spark" for name in SPARK_FITS])


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


def _fit_rows(spark_build, name: str, record: str) -> list[tuple]:
    folder = spark_build["dir"] / "tables" / "movierec.db" / f"fit_{name}_spark"
    return query(
        spark_build["duckdb"],
        "select user_id, movie_id, bias, factors, predicted_rating from read_parquet(?) where record = ? order by all",
        [str(folder / "*.parquet"), record],
    )


def test_spark_bias_baseline_equals_duckdbs(spark_build):
    """The same alternating updates in Spark SQL: the same biases and probe RMSE, to float rounding."""
    for record, key in (("user", "user_id"), ("movie", "movie_id")):
        spark = {
            row[0] if record == "user" else row[1]: row[2] for row in _fit_rows(spark_build, "bias_baseline", record)
        }
        duck = dict(
            query(
                spark_build["duckdb"],
                f"select {key}, bias from main.fit_bias_baseline where record = ? order by all",
                [record],
            )
        )
        assert spark.keys() == duck.keys() and len(duck) > 0
        worst = max(abs(spark[k] - duck[k]) for k in duck)
        assert worst < 1e-9, f"{record} biases differ by up to {worst}"
    duck_rmse = query(
        spark_build["duckdb"],
        "select value from main.model_metrics where model_name = 'bias_baseline' and metric = 'rmse'",
    )[0][0]
    assert spark_build["fits"]["bias_baseline"]["probe_rmse"] == pytest.approx(duck_rmse, abs=1e-9)


def test_mllib_biased_mf_probe_rmse_is_within_the_band_of_ours(spark_build):
    ours = query(
        spark_build["duckdb"], "select value from main.model_metrics where model_name = 'biased_mf' and metric = 'rmse'"
    )[0][0]
    mllib = spark_build["fits"]["biased_mf"]["probe_rmse"]
    assert abs(mllib - ours) <= MF_RMSE_BAND, f"MLlib ALS {mllib:.4f} against ours {ours:.4f}"
    # and it learned something beyond the biases it started from on the training ratings
    assert spark_build["fits"]["biased_mf"]["train_rmse"] < spark_build["fits"]["bias_baseline"]["train_rmse"]


@pytest.mark.parametrize("name", ["biased_mf", "ials"])
def test_spark_factor_tables_are_well_formed(spark_build, name):
    factors = int(query(spark_build["duckdb"], "select max(len(factors)) from main.movie_factors")[0][0])
    movies = _fit_rows(spark_build, name, "movie")
    users = _fit_rows(spark_build, name, "user")
    train_movies = query(spark_build["duckdb"], "select count(distinct movie_id) from main.int_ratings_train")[0][0]
    train_users = query(spark_build["duckdb"], "select count(distinct user_id) from main.int_ratings_train")[0][0]
    assert len(movies) == train_movies and len(users) == train_users
    assert len({row[1] for row in movies}) == len(movies) and len({row[0] for row in users}) == len(users)
    for row in movies + users:
        assert row[3] is not None and len(row[3]) == factors
    if name == "biased_mf":
        predictions = _fit_rows(spark_build, name, "prediction")
        test_ratings = query(spark_build["duckdb"], "select count(*) from main.int_ratings_test")[0][0]
        assert len(predictions) == test_ratings
        assert all(1 <= row[4] <= 5 for row in predictions)


def test_the_random_split_stops_on_spark_with_a_clear_message(spark_build):
    """DuckDB's hash() draws the random split; Spark cannot draw the same rows, so it must refuse."""
    outcome = spark_build["random_split"]
    assert not outcome["success"]
    text = " ".join(outcome["messages"]) + spark_build["log"]
    assert "the random split draws rows with DuckDB's hash(), which Spark cannot reproduce" in text


# --- After the fits: the serving and evaluation marts built on Spark, and the API serving them ---


def test_post_fit_build_runs_the_serving_and_evaluation_marts_and_their_tests(spark_build):
    results = spark_build["post_fit_results"]
    assert {r["status"] for r in results} <= {"success", "pass"}, [
        (r["unique_id"], r["status"], r["message"]) for r in results if r["status"] not in ("success", "pass")
    ]
    models = {r["unique_id"].split(".")[-1] for r in results if r["unique_id"].startswith("model.")}
    assert models == set(SERVING_TABLES + EVALUATION_TABLES)
    tests = [r for r in results if r["unique_id"].startswith(("test.", "unit_test."))]
    # the contract's key and range tests, the rank-gap and seen-exclusion checks, the metrics' unit test
    assert len(tests) >= 40
    names = " ".join(r["unique_id"] for r in tests)
    for check in ("assert_serving_ranks_have_no_gaps", "assert_no_rated_movie_is_recommended",
                  "model_user_metrics_on_a_hand_computed_example"):  # fmt: skip
        assert check in names


@pytest.fixture(scope="module")
def spark_views(spark_build) -> Path:
    """The DuckDB file of views over the Spark tables that `--spark` / MOVIEREC_SERVE_FROM=spark serve from."""
    from movierec.serving.spark_tables import write_spark_views

    return write_spark_views(spark_build["dir"])


def _columns(warehouse: Path, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in query(warehouse, f'describe main."{table}"')]


@pytest.mark.parametrize("table", SERVING_TABLES + ["popular_movies", "serving_user_ratings"])
def test_spark_serving_tables_have_the_contracts_columns_and_types(spark_build, spark_views, table):
    """Read through the serving views (factors cast to FLOAT[k], JSON restored), every serving
    table has DuckDB's enforced contract: the same columns, in order, of the same types."""
    assert _columns(spark_views, table) == _columns(spark_build["duckdb"], table)


def _one_list_per_key(rows: list[tuple], k: int) -> None:
    """rows: (key, rank, item, score), sorted by key and rank: ranks 1..n <= k, scores not rising, items unique."""
    lists: dict = {}
    for key, rank, item, score in rows:
        lists.setdefault(key, []).append((rank, item, score))
    assert lists
    for key, items in lists.items():
        assert [rank for rank, _, _ in items] == list(range(1, len(items) + 1)), key
        assert len(items) <= k and len({item for _, item, _ in items}) == len(items), key
        scores = [score for _, _, score in items]
        assert all(a >= b - 1e-9 for a, b in zip(scores, scores[1:])), (key, scores)


def test_spark_user_recommendations_are_well_formed(spark_build, spark_views):
    k = query(spark_views, "select recommendations_k from serving_config")[0][0]
    rows = query(spark_views, "select user_id, rank, movie_id, score from user_recommendations order by user_id, rank")
    _one_list_per_key(rows, k)
    # every user of fct_ratings gets a list, like DuckDB's; the serving model is the requested one (ials)
    users = "select count(distinct user_id) from user_recommendations"
    assert query(spark_views, users) == query(spark_build["duckdb"], users)
    served = (
        "select model_name, is_fallback, count(distinct user_id) from user_recommendations group by all order by all"
    )
    spark_served, duck_served = query(spark_views, served), query(spark_build["duckdb"], served)
    assert (
        [row[:2] for row in spark_served] == [row[:2] for row in duck_served] == [("ials", False), ("popularity", True)]
    )
    # the same users fall back to popularity, with the same lists (popularity is engine-independent)
    fallback = "select user_id, rank, movie_id, score, reason from user_recommendations where is_fallback order by all"
    assert query(spark_views, fallback) == query(spark_build["duckdb"], fallback)
    rated = query(
        spark_views,
        "select count(*) from user_recommendations inner join serving_user_ratings using (user_id, movie_id)",
    )
    assert rated == [(0,)]
    reasons = query(spark_views, "select reason from user_recommendations where not is_fallback and reason is not null")
    assert reasons and all(r[0].startswith("because you rated ") for r in reasons)


def test_spark_similar_movies_are_well_formed(spark_views):
    k = query(spark_views, "select similar_movies_k from serving_config")[0][0]
    rows = query(spark_views, "select movie_id, rank, similar_movie_id, similarity from similar_movies order by 1, 2")
    _one_list_per_key(rows, k)
    assert all(-1 - 1e-6 <= row[3] <= 1 + 1e-6 and row[0] != row[2] for row in rows)


def test_spark_model_runs_bias_baseline_equals_duckdbs(spark_build, spark_views):
    sql = "select train_ratings, global_mean, train_rmse from model_runs where model_name = 'bias_baseline'"
    spark, duck = query(spark_views, sql)[0], query(spark_build["duckdb"], sql)[0]
    assert spark[0] == duck[0]
    assert spark[1:] == pytest.approx(duck[1:], abs=1e-9)
    assert sorted(r[0] for r in query(spark_views, "select model_name from model_runs")) == sorted(SPARK_FITS)
    config = (
        "select model_name, is_requested_model, has_factors, factor_count, rating_min, rating_max from serving_config"
    )
    assert query(spark_views, config) == query(spark_build["duckdb"], config)


def test_spark_evaluation_metrics_are_sane_and_the_bias_baselines_equal_duckdbs(spark_build, spark_views):
    sql = "select model_name, metric, value from model_metrics order by all"
    spark = {(m, metric): value for m, metric, value in query(spark_views, sql)}
    duck = {(m, metric): value for m, metric, value in query(spark_build["duckdb"], sql)}
    ranking = ["precision", "recall", "ndcg", "map", "hit_rate", "catalog_coverage", "long_tail_share"]
    for name in SPARK_FITS:
        for metric in ranking:
            assert 0 <= spark[(name, metric)] <= 1, (name, metric)
    for name in ("bias_baseline", "biased_mf"):
        assert 0.5 < spark[(name, "rmse")] < 1.5 and 0 < spark[(name, "mae")] < spark[(name, "rmse")]
    assert ("ials", "rmse") not in spark
    # the bias baseline: the same predictions and the same top-k lists as DuckDB's, so the same metrics
    for metric in ["rmse", "mae"] + ranking:
        assert spark[("bias_baseline", metric)] == pytest.approx(duck[("bias_baseline", metric)], abs=1e-9), metric
    # MLlib's factor models learn: better ranking than the biases alone
    assert spark[("ials", "ndcg")] > spark[("bias_baseline", "ndcg")]
    board = query(spark_views, "select model_name, rmse_rank, ndcg_rank from mart_leaderboard order by model_name")
    assert [row[0] for row in board] == sorted(SPARK_FITS)
    by_activity = query(spark_views, "select distinct model_name from mart_rmse_by_activity order by 1")
    assert by_activity == [("bias_baseline",), ("biased_mf",)]


def test_the_serving_api_answers_from_the_spark_tables(spark_build, spark_views):
    """movierec.serving on the views over Spark's tables answers like on DuckDB's warehouse: the
    same shape, the same serving model, the same cold-start lists (popularity needs no fit)."""
    from movierec.serving import Service

    spark, duck = Service(spark_views), Service(spark_build["duckdb"])
    user = query(spark_views, "select user_id from serving_user_ratings group by 1 order by count(*) desc, 1 limit 1")[
        0
    ][0]
    ours, theirs = spark.recommend(user), duck.recommend(user)
    assert not ours.cold_start and ours.model_name == theirs.model_name == "ials"
    assert [i.rank for i in ours.items] == [i.rank for i in theirs.items] == list(range(1, len(theirs.items) + 1))
    rated = {r[0] for r in query(spark_views, "select movie_id from serving_user_ratings where user_id = ?", [user])}
    assert not rated & {i.movie_id for i in ours.items}
    # the API's own scoring of the Spark factors gives the batch table's list
    batch = query(spark_views, "select movie_id from user_recommendations where user_id = ? order by rank", [user])
    assert [i.movie_id for i in ours.items] == [r[0] for r in batch]
    unknown = 10**9
    cold_spark, cold_duck = spark.recommend(unknown), duck.recommend(unknown)
    assert cold_spark.cold_start and [i.movie_id for i in cold_spark.items] == [i.movie_id for i in cold_duck.items]
    movie = query(spark_views, "select movie_id from similar_movies order by movie_id limit 1")[0][0]
    near_spark, near_duck = spark.similar(movie), duck.similar(movie)
    assert near_spark.model_name == near_duck.model_name and len(near_spark.items) == len(near_duck.items) > 0
    table = query(spark_views, "select similar_movie_id from similar_movies where movie_id = ? order by rank", [movie])
    assert [i.movie_id for i in near_spark.items] == [r[0] for r in table]


def test_the_http_api_and_the_switch_serve_the_spark_tables(spark_build, spark_views, monkeypatch):
    """MOVIEREC_SERVE_FROM=spark: a Service without a warehouse reads the Spark tables; the HTTP app on it answers."""
    from fastapi.testclient import TestClient

    from movierec.server import create_app
    from movierec.serving import Service

    monkeypatch.setenv("MOVIEREC_SPARK_DIR", str(spark_build["dir"]))
    monkeypatch.setenv("MOVIEREC_SERVE_FROM", "spark")
    monkeypatch.setenv("MOVIEREC_WAREHOUSE", str(spark_build["dir"] / "no-such.duckdb"))
    service = Service(preload=True)
    user = query(spark_views, "select min(user_id) from user_recommendations where not is_fallback")[0][0]
    with TestClient(create_app(service)) as client:
        answer = client.get(f"/users/{user}/recommendations")
        assert answer.status_code == 200, answer.text
        body = answer.json()
    expected = query(spark_views, "select movie_id from user_recommendations where user_id = ? order by rank", [user])
    assert [item["movie_id"] for item in body["items"]] == [r[0] for r in expected]
