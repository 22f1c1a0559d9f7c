"""The serving marts built by dbt on the tiny sample, with a real factor model: the SQL and the python
engine give the same lists, the Python API gives the lists of the table, and the data tests pass."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from movierec.generate import generate
from movierec.ingest import ingest
from movierec.models.data import Ratings
from movierec.models.export import export_artifacts
from movierec.models.mf import BiasedMF
from movierec.serving import Service
from tests.conftest import query
from tests.conftest import run_dbt as dbt

pytestmark = pytest.mark.slow
MODEL = "serving_test_mf"  # a name no colleague's fit_<name> model uses
SERVING = ["path:models/serving", "path:python_models/serving"]
# the union of the fits' factor rows stays as built (it holds the test's own fit, inserted below)
KEEP_FITS = ["--exclude", "movie_factors", "user_factors", "model_runs"]


def serving_vars(engine: str) -> str:
    return "{serving_model: %s, recommendations_engine: %s, similar_movies_min_ratings: 20}" % (MODEL, engine)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Tiny sample -> dbt build -> a BiasedMF fit added to the factor tables -> serving marts (SQL engine),
    then the python engine's tables kept beside them for comparison."""
    tmp = tmp_path_factory.mktemp("serving")
    generate("tiny", tmp / "sample", progress=False)
    warehouse = tmp / "movierec.duckdb"
    ingest(tmp / "sample", warehouse=warehouse, quiet=True)
    # the serving marts and their inputs (tests that also need other models are left out: cautious)
    dbt(["build", "--select", "+path:models/serving", "--indirect-selection", "cautious"], warehouse, tmp)
    with duckdb.connect(str(warehouse)) as con:
        train = con.sql("select user_id, movie_id, rating from int_ratings_train").to_arrow_table()
        test = con.sql("select user_id, movie_id, rating from int_ratings_test").to_arrow_table()
        k = con.sql("select len(factors) from movie_factors where factors is not null limit 1").fetchall()
        k = k[0][0] if k else 50
        model = BiasedMF(n_factors=k, epochs=4, seed=1).fit(Ratings.from_arrow(train))
        model.name = MODEL
        artifacts = export_artifacts(model, test, n_factors=k, eval_max_users=10)
        con.register("artifacts", artifacts)
        con.execute(
            "insert into user_factors select model_name, user_id, bias, factors from artifacts where record = 'user'"
        )
        con.execute(
            "insert into movie_factors select model_name, movie_id, bias, factors from artifacts where record = 'movie'"
        )
        con.execute(
            "insert into model_runs select model_name, cast(hyperparameters as json), fit_seconds, train_rmse, "
            "train_ratings, bias from artifacts where record = 'run'"
        )
    dbt(["build", "--select", *SERVING, *KEEP_FITS, "--vars", serving_vars("python")], warehouse, tmp)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table python_recommendations as select * from user_recommendations")
        con.execute("create table python_similar as select * from similar_movies")
    # engine auto with a zero pair budget must choose python, and read the batch tables
    dbt(
        [
            "run",
            "--select",
            *SERVING,
            *KEEP_FITS,
            "--vars",
            serving_vars("auto")[:-1] + ", recommendations_sql_max_pairs: 0}",
        ],
        warehouse,
        tmp,
    )
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table auto_engine as select recommendations_engine from serving_config")
        con.execute("create table auto_recommendations as select * from user_recommendations")
        con.execute("create table auto_similar as select * from similar_movies")
    dbt(
        [
            "build",
            "--select",
            *SERVING,
            "assert_no_rated_movie_is_recommended",
            "assert_serving_ranks_have_no_gaps",
            "assert_similar_movies_meet_min_support",
            *KEEP_FITS,
            "--vars",
            serving_vars("sql"),
        ],
        warehouse,
        tmp,
    )
    return warehouse


def test_engine_auto_above_the_pair_budget_scores_in_python_with_the_same_rows(built):
    assert query(built, "select * from auto_engine") == [("python",)]
    for auto, python in (("auto_recommendations", "python_recommendations"), ("auto_similar", "python_similar")):
        assert query(built, f"select count(*) from {auto}")[0][0] > 0
        assert query(built, f"select count(*) from (select * from {auto} except all select * from {python})") == [(0,)]
        assert query(built, f"select count(*) from (select * from {python} except all select * from {auto})") == [(0,)]


def test_the_requested_model_serves_and_every_user_gets_a_list(built):
    assert query(built, "select model_name, is_requested_model from serving_config") == [(MODEL, True)]
    ((users, listed),) = query(
        built, "select (select count(*) from dim_users), count(distinct user_id) from user_recommendations"
    )
    assert users == listed
    ((fallback,),) = query(built, "select count(distinct user_id) from user_recommendations where is_fallback")
    ((few,),) = query(built, "select count(*) from dim_users where rating_count < 5")
    assert fallback >= few


def test_sql_and_python_engines_agree(built):
    ((differ, reasons, worst, total),) = query(
        built,
        """
        select
            count(*) filter (where sql_rows.movie_id is distinct from py.movie_id),
            count(*) filter (where sql_rows.reason is distinct from py.reason),
            max(abs(sql_rows.score - py.score)),
            count(*)
        from user_recommendations as sql_rows
        full outer join python_recommendations as py
            on sql_rows.user_id = py.user_id and sql_rows.rank = py.rank""",
    )
    assert total > 1000 and differ == 0 and reasons == 0 and worst < 1e-5
    ((differ, total),) = query(
        built,
        """
        select count(*) filter (where a.similar_movie_id is distinct from b.similar_movie_id), count(*)
        from similar_movies as a full outer join python_similar as b on a.movie_id = b.movie_id and a.rank = b.rank""",
    )
    assert total > 100 and differ == 0


def test_the_api_gives_the_lists_of_the_table(built):
    rows = query(
        built,
        "select user_id, rank, movie_id, score, reason, is_fallback from user_recommendations order by user_id, rank",
    )
    table = {}
    for user, _rank, movie, score, reason, fallback in rows:
        table.setdefault(user, []).append((movie, score, reason, fallback))
    users = sorted(table)
    sample = users[:: max(len(users) // 150, 1)]
    for preload in (False, True):
        service = Service(built, preload=preload)
        for user in sample:
            result = service.recommend(user)
            expected = table[user]
            assert [i.movie_id for i in result.items] == [e[0] for e in expected], user
            assert [i.reason for i in result.items] == [e[2] for e in expected], user
            assert result.cold_start == expected[0][3]
            np.testing.assert_allclose([i.score for i in result.items], [e[1] for e in expected], atol=1e-5)


def test_the_api_gives_the_similar_movies_of_the_table(built):
    rows = query(built, "select movie_id, similar_movie_id from similar_movies order by movie_id, rank")
    table = {}
    for movie, similar in rows:
        table.setdefault(movie, []).append(similar)
    service = Service(built)
    for movie in sorted(table)[::5]:
        assert [i.movie_id for i in service.similar(movie).items] == table[movie]


def test_cli_prints_recommendations(built, capsys):
    from movierec.cli import main

    ((user,),) = query(built, "select min(user_id) from user_recommendations where not is_fallback")
    assert main(["recommend", "--user", str(user), "--warehouse", str(built)]) == 0
    out = capsys.readouterr().out
    assert f"by {MODEL}" in out and "because you rated" in out
    ((title,),) = query(built, "select title from dim_movies where rating_count >= 20 order by movie_id limit 1")
    assert main(["similar", "--title", title.upper(), "--warehouse", str(built)]) == 0
    assert "similarity" in capsys.readouterr().out
