"""The artifact table a fit_<model> dbt model returns (movierec.models.export)."""

from __future__ import annotations

import datetime
import json

import numpy as np
import pyarrow as pa
import pytest

from movierec.models.base import FactorModel, Recommender
from movierec.models.baselines import BiasBaseline
from movierec.models.data import Ratings
from movierec.models.export import evaluation_users, export_artifacts, fit_and_export

TRAIN = Ratings.from_ids([1, 1, 2, 2, 3], [10, 20, 10, 30, 20], [5.0, 3.0, 4.0, 2.0, 1.0])
TEST = pa.table({"user_id": [1, 2, 9], "movie_id": [30, 20, 10], "rating": [4.0, 5.0, 3.0]})


class TwoFactors(FactorModel):
    """A fixed rank-2 model: the export must pad its factors to the table's k."""

    predicts_ratings = True

    def _fit(self, train: Ratings) -> None:
        self.global_mean = 3.0
        self.user_bias = np.zeros(train.n_users)
        self.movie_bias = np.array([0.5, 0.0, -0.5])
        self.user_factors = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32)
        self.movie_factors = np.array([[1, 0], [0, 2], [0, 0]], dtype=np.float32)


def records(table: pa.Table, record: str) -> list[dict]:
    return [row for row in table.to_pylist() if row["record"] == record]


def test_factor_rows_are_zero_padded_to_the_table_width():
    table = export_artifacts(TwoFactors(name="two").fit(TRAIN), TEST, n_factors=4)
    movies = {row["movie_id"]: row for row in records(table, "movie")}
    assert movies[20]["factors"] == [0.0, 2.0, 0.0, 0.0] and movies[10]["bias"] == 0.5
    assert [row["user_id"] for row in records(table, "user")] == [1, 2, 3]
    assert table.schema.field("factors").type == pa.list_(pa.float32(), 4)


def test_predictions_use_the_fallback_for_unknown_users_and_runs_carry_the_fit():
    model = BiasBaseline().fit(TRAIN)
    table = export_artifacts(model, TEST, n_factors=4)
    predictions = {(r["user_id"], r["movie_id"]): r["predicted_rating"] for r in records(table, "prediction")}
    assert predictions[(9, 10)] == pytest.approx(model.global_mean + model.movie_bias[0])  # user 9 unknown
    (run,) = records(table, "run")
    assert run["train_ratings"] == 5 and json.loads(run["hyperparameters"]) == model.hyperparameters()
    assert records(table, "user")[0]["factors"] is None  # bias-only: no factors


def test_recommendations_skip_seen_movies_and_unknown_users():
    table = export_artifacts(TwoFactors(name="two").fit(TRAIN), TEST, n_factors=2, top_k=5)
    recommended = {(r["user_id"], r["movie_id"]) for r in records(table, "recommendation")}
    assert recommended == {(1, 30), (2, 20)}  # user 1 saw 10, 20; user 2 saw 10, 30; user 9 unknown


def test_more_factors_than_the_table_holds_is_an_error_unless_the_model_does_not_serve_them():
    with pytest.raises(ValueError, match="var `factors`"):
        export_artifacts(TwoFactors(name="two").fit(TRAIN), TEST, n_factors=1)
    model = TwoFactors(name="two").fit(TRAIN)
    model.serves_factors = False
    table = export_artifacts(model, TEST, n_factors=1)
    assert not records(table, "user") and not records(table, "movie") and records(table, "prediction")


def test_evaluation_users_are_a_fixed_hash_sample_of_known_test_users():
    test = pa.table({"user_id": np.arange(1, 1001), "movie_id": np.ones(1000, dtype=int), "rating": np.ones(1000)})
    train = Ratings.from_ids(np.arange(1, 1001), np.ones(1000, dtype=int), np.ones(1000))
    sample = evaluation_users(test, train, 100)
    assert len(sample) == 100 and np.all(np.diff(sample) > 0)
    shuffled = test.take(np.random.default_rng(0).permutation(1000))
    assert np.array_equal(evaluation_users(shuffled, train, 100), sample)  # order-independent
    assert list(evaluation_users(TEST, TRAIN, None)) == [1, 2]  # 9 is not in training


class ContextSpy(Recommender):
    """A model that reads dates (`uses_context`): records the rows it was fitted on."""

    name = "spy"
    uses_context = True

    def fit(self, train: Ratings, rated_on=None, implicit=None):
        self.rows = list(zip(train.user_ids[train.user].tolist(), train.movie_ids[train.movie].tolist(), rated_on))
        self.train, self.fit_seconds = train, 0.0
        return self

    def _fit(self, train: Ratings) -> None: ...

    def score_users(self, user_index):
        return np.zeros((len(user_index), self.train.n_movies))


def test_a_model_with_dates_is_fitted_on_the_ratings_in_index_order_whatever_the_table_order():
    # int_ratings_train is stored in no fixed order; the fits' float sums follow the row order
    rows = [
        (u, m, float(u + m), datetime.date(2005, 1, 1) + datetime.timedelta(days=u * m))
        for u in (3, 1, 2)
        for m in (20, 10)
    ]
    fitted = []
    for order in ([0, 1, 2, 3, 4, 5], [5, 2, 4, 0, 3, 1]):
        picked = [rows[i] for i in order]
        users, movies = [r[0] for r in picked], [r[1] for r in picked]
        table = pa.table(
            {
                "user_id": users,
                "movie_id": movies,
                "rating": [r[2] for r in picked],
                "rated_on": pa.array([r[3] for r in picked], pa.date32()),
                "user_index": [sorted(set(users)).index(u) for u in users],
                "movie_index": [sorted(set(movies)).index(m) for m in movies],
            }
        )
        spy = ContextSpy()
        fit_and_export(spy, table, TEST, {"factors": 2})
        fitted.append(spy.rows)
    assert fitted[0] == fitted[1]
    assert [(u, m) for u, m, _ in fitted[0]] == sorted((u, m) for u, m, _, _ in rows)
