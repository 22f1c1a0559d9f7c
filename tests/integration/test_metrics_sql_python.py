"""The metrics are written twice, in SQL (model_user_metrics, model_metrics) and in Python
(movierec.metrics), as movierec.metrics' docstring says; this computes both on the same lists (every
model of the tiny sample's build) and checks that they agree."""

from __future__ import annotations

import duckdb
import pytest

from movierec import metrics

pytestmark = pytest.mark.slow

K = 10  # var top_k's default, which the tiny build uses


def test_sql_and_python_metrics_agree_on_the_same_lists(tiny_marts):
    con = duckdb.connect(str(tiny_marts), read_only=True)
    try:
        sql = {
            (m, metric): value
            for m, metric, value in con.execute("select model_name, metric, value from model_metrics").fetchall()
        }
        assert con.execute("select distinct k from model_metrics where k is not null").fetchall() == [(K,)]
        relevant = con.execute("select user_id, movie_id from int_ratings_test").df()
        recommendations = con.execute("select model_name, user_id, movie_id, rank from model_recommendations_eval").df()
        predictions = con.execute("select model_name, predicted_rating, rating from model_predictions").df()
        catalog = con.execute("select distinct movie_id from int_ratings_train").df()["movie_id"].to_numpy()
        tail = con.execute("select movie_id from dim_movies where not is_head").df()["movie_id"].to_numpy()
    finally:
        con.close()

    compared = 0
    for name, lists in recommendations.groupby("model_name"):
        # SQL averages over the users it has a list for (and who have held-out movies)
        users = lists["user_id"].unique()
        python = metrics.ranking_metrics(lists, relevant, k=K, users=users)
        python["catalog_coverage"] = metrics.catalog_coverage(lists, catalog, k=K)
        python["long_tail_share"] = metrics.long_tail_share(lists, tail, k=K)
        for metric in ("precision", "recall", "ndcg", "map", "hit_rate", "catalog_coverage", "long_tail_share"):
            assert sql[(name, metric)] == pytest.approx(python[metric], abs=1e-12), (name, metric)
            compared += 1
    for name, rows in predictions.groupby("model_name"):
        assert sql[(name, "rmse")] == pytest.approx(metrics.rmse(rows["predicted_rating"], rows["rating"]), abs=1e-12)
        assert sql[(name, "mae")] == pytest.approx(metrics.mae(rows["predicted_rating"], rows["rating"]), abs=1e-12)
        compared += 2
    assert compared >= 7 * 8  # every model's lists, and the rating models' errors
