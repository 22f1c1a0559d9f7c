"""The recommenders computed in SQL (models/recommenders/) return what the Python classes they
replace would export, row for row, on the tiny sample's warehouse."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from movierec.models.baselines import GlobalMean, MovieMean
from movierec.models.export import fit_and_export
from movierec.models.popularity import Popularity

pytestmark = pytest.mark.slow

KEY = ["record", "model_name", "user_id", "movie_id", "rank"]
EXACT = ["hyperparameters", "train_ratings"]
CLOSE = ["bias", "predicted_rating", "score", "train_rmse"]


def _sorted(table) -> pa.Table:
    table = table.read_all() if hasattr(table, "read_all") else table
    return table.sort_by([(column, "ascending") for column in KEY])


@pytest.mark.parametrize(
    "name, make",
    [
        ("global_mean", GlobalMean),
        ("movie_mean", lambda: MovieMean(damping=5)),  # var movie_mean_damping
        ("popularity", Popularity),
    ],
)
def test_sql_artifacts_equal_the_python_models(tiny_marts, name, make):
    with duckdb.connect(str(tiny_marts), read_only=True) as con:
        sql = _sorted(con.sql(f"select * from fit_{name}").arrow())
        train = con.sql("select user_id, movie_id, rating from int_ratings_train").arrow().read_all()
        test = con.sql("select user_id, movie_id, rating from int_ratings_test").arrow().read_all()
    python = _sorted(fit_and_export(make(), train, test, {"factors": 50, "top_k": 10, "eval_max_users": 2000}))
    assert sql.schema.field("factors").type == python.schema.field("factors").type
    assert sql.num_rows == python.num_rows
    counts = dict(zip(*np.unique(python.column("record").to_numpy(zero_copy_only=False), return_counts=True)))
    assert counts.get("recommendation", 0) > 1000 and (name == "popularity" or counts["prediction"] > 100)
    for column in KEY + EXACT:
        assert sql.column(column).to_pylist() == python.column(column).to_pylist(), column
    for column in CLOSE:
        got, want = sql.column(column).to_pylist(), python.column(column).to_pylist()
        assert [g is None for g in got] == [w is None for w in want], column
        assert [g for g in got if g is not None] == pytest.approx([w for w in want if w is not None], abs=1e-9), column
    assert sql.column("factors").null_count == sql.num_rows
    run = sql.filter(pa.compute.equal(sql.column("record"), "run"))
    assert run.column("fit_seconds").to_pylist() == [None]  # SQL: the node's time is in run_results.json


def test_engine_auto_scores_the_tiny_sample_in_sql_and_leaves_the_batch_tables_empty(tiny_marts):
    with duckdb.connect(str(tiny_marts), read_only=True) as con:
        assert con.sql("select recommendations_engine from serving_config").fetchall() == [("sql",)]
        assert con.sql("select count(*) from batch_user_recommendations").fetchall() == [(0,)]
        assert con.sql("select count(*) from batch_similar_movies").fetchall() == [(0,)]
        assert con.sql("select count(*) from user_recommendations").fetchall()[0][0] > 0
