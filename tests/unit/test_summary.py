"""movierec.summary: the figures `make demo` ends with, read from a hand-made warehouse with known
answers, and the summary of a warehouse that is only ingested or missing."""

from __future__ import annotations

import duckdb
import pytest

from movierec.cli import main
from movierec.summary import NEXT_COMMANDS, format_summary, summarize


def _ingested(path):
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.ratings as select * from (values (1, 10, 5.0), (1, 20, 3.0), (2, 10, 4.0)) as t(user_id, movie_id, rating)"
        )
        con.execute(
            "create table raw.movies as select * from (values (10, 'Alpha'), (20, 'Beta'), (30, 'Gamma')) as t(movie_id, title)"
        )
        con.execute(
            "create table raw.rejects as select * from (values ('f.txt', 7, 'x', 'bad')) as t(file, line, text, reason)"
        )
    return path


def _built(path):
    _ingested(path)
    with duckdb.connect(str(path)) as con:
        con.execute("create table fct_ratings as select * from raw.ratings where user_id = 1")
        con.execute("""create table mart_leaderboard as select * from (values
            ('global_mean', 1.10, 0.01), ('bias_baseline', 0.95, 0.05), ('biased_mf', 0.87, 0.02),
            ('popularity', null, 0.20), ('ials', null, 0.25)) as t(model_name, rmse, ndcg_at_k)""")
        con.execute(
            "create table model_metrics as select * from (values ('ials', 'ndcg', 5), ('ials', 'rmse', null)) as t(model_name, metric, k)"
        )
        con.execute("create table serving_config as select 'ials' as model_name, 'ials' as requested_model_name")
        con.execute(
            "create table user_recommendations as select * from (values (1, 30), (2, 20), (2, 30)) as t(user_id, movie_id)"
        )
    return path


def test_summary_of_a_built_warehouse(tmp_path):
    summary = summarize(_built(tmp_path / "w.duckdb"))
    assert (summary.rating_count, summary.user_count, summary.movie_count, summary.rejected_count) == (3, 2, 3, 1)
    assert summary.fct_rating_count == 2
    assert (summary.best_rating.model_name, summary.best_rating.value) == ("biased_mf", 0.87)
    assert (summary.rating_baseline.model_name, summary.rating_baseline.value) == ("bias_baseline", 0.95)
    assert (summary.best_ranking.model_name, summary.best_ranking.value) == ("ials", 0.25)
    assert summary.ranking_baseline.model_name == "popularity" and summary.ranking_k == 5
    assert (summary.serving_model, summary.recommended_user_count) == ("ials", 2)
    assert summary.missing == []

    text = format_summary(summary)
    assert f"warehouse     {tmp_path / 'w.duckdb'}" in text
    assert "loaded        3 ratings, 2 users, 3 movies; 1 lines rejected (raw.rejects)" in text
    assert "modelled      2 ratings in fct_ratings" in text
    assert "best rating   biased_mf (RMSE 0.870), against bias_baseline (RMSE 0.950)" in text
    assert "best ranking  ials (nDCG@5 0.250), against popularity (nDCG@5 0.200), top-5 lists" in text
    assert "serving       ials (nDCG@5 0.250), top-k lists for 2 users" in text
    # the next commands, one line each, in order
    lines = text.splitlines()
    start = lines.index("Next:")
    assert [line.split()[0:2] for line in lines[start + 1 :]] == [command.split() for command, _ in NEXT_COMMANDS]
    assert [command for command, _ in NEXT_COMMANDS] == [
        "make sql",
        "make lab",
        "make reports",
        "make serve",
        "make docs",
    ]


def test_a_stand_in_serving_model_is_named(tmp_path):
    path = _built(tmp_path / "w.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("update serving_config set model_name = 'biased_mf'")
    assert "serving       biased_mf (nDCG@5 0.020) (stand-in: var serving_model ials is not fitted)" in format_summary(
        summarize(path)
    )


def test_summary_of_an_ingested_warehouse_says_what_is_missing(tmp_path):
    summary = summarize(_ingested(tmp_path / "w.duckdb"))
    assert summary.rating_count == 3 and summary.best_rating is None
    assert summary.missing == ["main.mart_leaderboard", "main.serving_config"]
    text = format_summary(summary)
    assert "models        not fitted yet: run `dbt build`" in text
    assert "serving       no serving model yet: run `dbt build`" in text


def test_fitted_but_not_evaluated_is_told_apart_from_not_fitted(tmp_path):
    path = _ingested(tmp_path / "w.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("create table model_runs as select * from (values ('ials'), ('biased_mf')) as t(model_name)")
    assert "models        2 fitted (model_runs) but not evaluated: no mart_leaderboard" in format_summary(
        summarize(path)
    )


def test_cli_summary(tmp_path, capsys):
    path = _built(tmp_path / "w.duckdb")
    assert main(["summary", "--warehouse", str(path)]) == 0
    assert "best rating   biased_mf" in capsys.readouterr().out


def test_cli_summary_without_a_warehouse_is_a_clear_error(tmp_path, capsys):
    assert main(["summary", "--warehouse", str(tmp_path / "none.duckdb")]) == 1
    err = capsys.readouterr().err
    assert "none.duckdb does not exist" in err and "make demo" in err


def test_cli_summary_while_a_build_writes_is_a_clear_error(tmp_path, capsys):
    import subprocess
    import sys

    path = _built(tmp_path / "w.duckdb")
    # another process holds the file for writing, as dbt build does
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('ok', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        assert main(["summary", "--warehouse", str(path)]) == 1
        assert "cannot open the warehouse" in capsys.readouterr().err
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


@pytest.mark.parametrize("n_bytes, text", [(512, "512 bytes"), (15 * 1024**2, "15.0 MB"), (3 * 1024**3, "3.0 GB")])
def test_sizes(n_bytes, text):
    from movierec.summary import _size

    assert _size(n_bytes) == text
