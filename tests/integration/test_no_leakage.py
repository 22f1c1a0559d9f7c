"""No held-out rating may reach anything a model learns.

The pipeline is fitted twice on the tiny sample: once as generated, once with every held-out
(probe) rating rewritten. Every fitted parameter, training statistic and prediction must be
identical. As a control, rewriting training ratings the same way must change them, so the
comparison is able to see a difference.

The run includes the models that read implicit feedback (bayesian_svdpp, bayesian_timesvdpp and
the blend): they are given *which* held-out pairs exist (int_implicit_pairs), as the Netflix
Prize allowed, so their fit must stay identical when those pairs' ratings change.
"""

from __future__ import annotations

import json
import math
import shutil

import duckdb
import pytest

from movierec.generate import generate
from movierec.ingest import ingest
from tests.conftest import query
from tests.conftest import run_dbt as dbt

pytestmark = pytest.mark.slow

FITTED = {
    "model_runs": "select model_name, hyperparameters::varchar, train_rmse, train_ratings, global_mean from model_runs",
    "user_factors": "select * from user_factors",
    "movie_factors": "select * from movie_factors",
    "model_predictions": "select model_name, user_id, movie_id, predicted_rating from model_predictions",
    # each rank's score, not its movie: two movies whose scores tie to within float noise may swap
    # places between two fits of the same data (seen: 1.01329 vs 1.01333 at rank 5), while a
    # leak moves the scores themselves far beyond the tolerance
    "model_recommendations_eval": "select model_name, user_id, rank, score from model_recommendations_eval",
}


# Every default model plus the implicit-feedback ones, with few Gibbs samples (tiny sample: fast).
IMPLICIT_MODELS = ["bayesian_svdpp", "bayesian_timesvdpp", "blend"]
VARS = (
    "{recommenders: [global_mean, movie_mean, bias_baseline, popularity, item_knn, truncated_svd, biased_mf, "
    "bayesian_mf, ials, ease, " + ", ".join(IMPLICIT_MODELS) + "], prize_samples: 4, prize_burn_in: 2, "
    "bpmf_samples: 4, blend_members: [bias_baseline, biased_mf, bayesian_timesvdpp]}"
)


def fitted_state(warehouse):
    return {name: sorted(query(warehouse, sql), key=_key) for name, sql in FITTED.items()}


def _key(row: tuple) -> tuple:
    """The identifying part of a row: everything but its numbers and arrays."""
    return tuple(value for value in row if not isinstance(value, (float, list, tuple)))


def _json(value):
    """A JSON object or array written as text (model_runs.hyperparameters), parsed; else None."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def _close(a, b) -> bool:
    if _json(a) is not None and _json(b) is not None:  # fitted values recorded in JSON: the blend's weights
        return _close(_json(a), _json(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[key], b[key]) for key in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def same(rows_a: list[tuple], rows_b: list[tuple]) -> bool:
    """Equal up to the last digits of a float64 sum (1e-9). Two fits of the same training data
    are identical: every dbt fit holds BLAS at one thread for the whole process (see
    movierec.models.blas; before that, biased_mf biases moved by up to 3e-3 between two builds
    of the same data, which hid any leak smaller than that). Only DuckDB's parallel aggregates
    (the SQL mean models) may differ in the last bits."""
    return len(rows_a) == len(rows_b) and all(_close(a, b) for a, b in zip(rows_a, rows_b))


def rewrite_ratings(warehouse, held_out: bool) -> int:
    """Replace r by 6 - r for the probe pairs (held_out) or for as many training pairs."""
    pairs = "select user_id, movie_id from raw.probe"
    if not held_out:
        pairs = (
            "select user_id, movie_id from raw.ratings anti join raw.probe using (user_id, movie_id) "
            "order by user_id, movie_id limit (select count(*) from raw.probe)"
        )
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"create temp table pairs as {pairs}")
        con.execute(
            "update raw.ratings set rating = 6 - rating "
            "where (user_id, movie_id) in (select (user_id, movie_id) from pairs)"
        )
        return con.execute("select count(*) from pairs").fetchone()[0]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("leakage")
    generate("tiny", tmp / "sample", progress=False)
    warehouse = tmp / "base.duckdb"
    ingest(tmp / "sample", warehouse=warehouse, quiet=True)
    dbt(["run", "--vars", VARS], warehouse, tmp)
    return tmp, warehouse


def refit(tmp, warehouse, name: str, held_out: bool):
    copy = tmp / f"{name}.duckdb"
    shutil.copy(warehouse, copy)
    assert rewrite_ratings(copy, held_out) > 0
    dbt(
        [
            "run",
            "--select",
            "+model_runs",
            "+user_factors",
            "+movie_factors",
            "+model_predictions",
            "+model_recommendations_eval",
            "--vars",
            VARS,
        ],
        copy,
        tmp,
    )
    return copy


def test_split_uses_the_probe_set(fitted):
    _, warehouse = fitted
    assert query(warehouse, "select distinct split_strategy from int_ratings_split") == [("probe",)]
    ((test_rows,),) = query(warehouse, "select count(*) from int_ratings_test")
    ((probe_rows,),) = query(warehouse, "select count(*) from raw.probe")
    assert test_rows == probe_rows > 0


def test_held_out_ratings_reach_no_fitted_parameter(fitted):
    tmp, warehouse = fitted
    changed = refit(tmp, warehouse, "held_out_rewritten", held_out=True)
    before, after = fitted_state(warehouse), fitted_state(changed)
    for name in FITTED:
        diff = next(((a, b) for a, b in zip(after[name], before[name]) if not _close(a, b)), None)
        assert same(after[name], before[name]), (
            f"{name} changed when only held-out ratings changed: leakage (first difference: {diff})"
        )


def test_control_rewriting_training_ratings_changes_the_fit(fitted):
    tmp, warehouse = fitted
    changed = refit(tmp, warehouse, "train_rewritten", held_out=False)
    before, after = fitted_state(warehouse), fitted_state(changed)
    for name in ("model_runs", "user_factors", "movie_factors", "model_predictions"):
        assert not same(after[name], before[name]), f"{name} did not react to training data: the leakage test is blind"


def test_implicit_models_read_the_held_out_pairs_but_no_rating(fitted):
    _, warehouse = fitted
    columns = {
        name
        for (name,) in query(
            warehouse, "select column_name from information_schema.columns where table_name = 'int_implicit_pairs'"
        )
    }
    assert "rating" not in columns
    ((pairs,),) = query(warehouse, "select count(*) from int_implicit_pairs where pair_source = 'test'")
    ((probe,),) = query(warehouse, "select count(*) from raw.probe")
    assert pairs == probe > 0
    runs = dict(query(warehouse, "select model_name, hyperparameters::varchar from model_runs"))
    assert set(IMPLICIT_MODELS) <= set(runs)
    ((train,),) = query(warehouse, "select count(*) from int_ratings_train")
    # N(u) is built from the training pairs plus the held-out (and qualifying) pairs on known users and movies
    ((extra,),) = query(warehouse, "select count(*) from int_implicit_pairs")
    implicit_pairs = json.loads(runs["bayesian_svdpp"])["implicit_pairs"]
    assert train < implicit_pairs <= train + extra
