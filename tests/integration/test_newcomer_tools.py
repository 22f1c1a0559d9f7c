"""The newcomer's tools on the tiny warehouse: the analyses in analyses/ (compiled by dbt, then
each run), `movierec summary`, and `make sql`, `make lab` and `make docs` started for real,
non-interactively (a query piped into the SQL shell; an HTTP 200 from JupyterLab and from dbt
docs on 127.0.0.1 and a free port), then stopped."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import PROJECT_ROOT, query

pytestmark = pytest.mark.slow

ANALYSES = sorted((PROJECT_ROOT / "analyses").glob("*.sql"))
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def dbt_folders(tmp_path_factory) -> Path:
    """dbt's target and log folders for this module (DBT_TARGET_PATH, DBT_LOG_PATH)."""
    return tmp_path_factory.mktemp("dbt")


@pytest.fixture(scope="module")
def compiled_analyses(tiny_marts, dbt_folders) -> Path:
    """`make analyses`, i.e. `dbt compile` of the analyses: the refs resolve and the Jinja renders."""
    result = subprocess.run(
        ["make", "--no-print-directory", "analyses"],
        cwd=PROJECT_ROOT,
        env=_make_env(tiny_marts, dbt_folders),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return dbt_folders / "target" / "compiled" / "movierec" / "analyses"


def test_there_are_about_ten_analyses_each_saying_its_question():
    assert 8 <= len(ANALYSES) <= 14
    for path in ANALYSES:
        first = path.read_text().splitlines()[0]
        assert first.startswith("-- ") and "?" in first, f"{path.name}: start with the question it answers"


@pytest.mark.parametrize("path", ANALYSES, ids=lambda p: p.stem)
def test_analysis_runs_on_the_tiny_sample(path, compiled_analyses, tiny_marts):
    sql = (compiled_analyses / path.name).read_text()
    assert "{{" not in sql and "ref(" not in sql
    rows = query(tiny_marts, sql)
    assert rows, f"{path.name} returned no rows on the tiny sample"


def _run_with_variables(warehouse: Path, sql: str, variables: dict) -> tuple[list[str], list[tuple]]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, value in variables.items():
            con.execute(f"set variable {name} = ?", [value])
        result = con.execute(sql)
        return [d[0] for d in result.description], result.fetchall()


def test_analysis_parameters_are_duckdb_variables(compiled_analyses, tiny_marts):
    user_id, movie_id = query(
        tiny_marts,
        "select user_id, movie_id from user_recommendations where not is_fallback order by user_id desc, rank limit 1",
    )[0]
    columns, rows = _run_with_variables(
        tiny_marts, (compiled_analyses / "user_history_and_recommendations.sql").read_text(), {"user_id": user_id}
    )
    assert rows and {row[columns.index("user_id")] for row in rows} == {user_id}
    recommended = query(tiny_marts, "select count(*) from user_recommendations where user_id = ?", [user_id])[0][0]
    assert sum(row[columns.index("recommended_title")] is not None for row in rows) == recommended

    columns, rows = _run_with_variables(
        tiny_marts,
        (compiled_analyses / "why_this_recommendation.sql").read_text(),
        {"user_id": user_id, "movie_id": movie_id},
    )
    score = query(
        tiny_marts, "select score from user_recommendations where user_id = ? and movie_id = ?", [user_id, movie_id]
    )[0][0]
    reason_title = query(
        tiny_marts,
        "select title from user_recommendations join dim_movies on reason_movie_id = dim_movies.movie_id "
        "where user_id = ? and user_recommendations.movie_id = ?",
        [user_id, movie_id],
    )[0][0]
    assert rows and rows[0][columns.index("score")] == pytest.approx(score, abs=1e-3)
    assert rows[0][columns.index("rated_title")] == reason_title  # the top row is the reason shown

    title = query(tiny_marts, "select title from dim_movies order by rating_count desc limit 1 offset 3")[0][0]
    columns, rows = _run_with_variables(
        tiny_marts, (compiled_analyses / "movies_similar_to_a_title.sql").read_text(), {"title": title.lower()}
    )
    assert rows and all(row[columns.index("movie")].startswith(title) for row in rows)

    columns, rows = _run_with_variables(
        tiny_marts, (compiled_analyses / "most_rated_movies_of_a_year.sql").read_text(), {"year": 1995}
    )
    assert rows and {row[columns.index("release_year")] for row in rows} == {1995}


def test_summary_on_the_tiny_warehouse(tiny_marts):
    result = subprocess.run(
        [str(BIN / "movierec"), "summary", "--warehouse", str(tiny_marts)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    best_rmse = query(tiny_marts, "select model_name, rmse from mart_leaderboard where rmse_rank = 1")[0]
    best_ndcg = query(tiny_marts, "select model_name, ndcg_at_k from mart_leaderboard order by ndcg_at_k desc limit 1")[
        0
    ]
    serving = query(tiny_marts, "select model_name from serving_config")[0][0]
    out = result.stdout
    assert f"warehouse     {tiny_marts}" in out
    assert "loaded        30,000 ratings, 1,000 users, 250 movies; 0 lines rejected" in out
    assert f"best rating   {best_rmse[0]} (RMSE {best_rmse[1]:.3f})" in out
    assert f"best ranking  {best_ndcg[0]} (nDCG@10 {best_ndcg[1]:.3f})" in out
    assert f"serving       {serving}" in out
    for command in ("make sql", "make lab", "make reports", "make serve", "make docs"):
        assert f"\n  {command} " in out


# --- make sql / lab / docs, started for real --------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _make_env(warehouse: Path, tmp: Path, **extra) -> dict:
    return {
        **os.environ,
        "MOVIEREC_WAREHOUSE": str(warehouse),
        "DBT_TARGET_PATH": str(tmp / "target"),
        "DBT_LOG_PATH": str(tmp / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        **extra,
    }


class Started:
    """A `make` target that serves until stopped: started in its own process group, stopped
    with the whole group (make, and the server it started)."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.log = log
        self.process = subprocess.Popen(
            ["make", *args],
            cwd=PROJECT_ROOT,
            env=env,
            start_new_session=True,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )

    def wait_for(self, url: str, timeout: float) -> httpx.Response:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"exited with {self.process.returncode}:\n{self.output()}"
            try:
                response = httpx.get(url, timeout=5)
                if response.status_code == 200:
                    return response
            except httpx.TransportError:
                pass
            time.sleep(1)
        raise AssertionError(f"no 200 from {url} in {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text()[-5000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)


def test_make_sql_opens_the_warehouse_read_only_and_runs_a_question(tiny_marts, compiled_analyses, dbt_folders):
    # the analyses are compiled already (make analyses, the fixture): make sql does not compile again
    script = (
        "select count(*) as movie_count from dim_movies;\n"
        f".read {compiled_analyses}/which_model_wins.sql\n"
        "create table scratch (a integer);\n"
    )
    result = subprocess.run(
        ["make", "--no-print-directory", "sql"],
        cwd=PROJECT_ROOT,
        input=script,
        env=_make_env(tiny_marts, dbt_folders),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "dbt compile" not in result.stdout
    out = result.stdout
    # the start-up line names the main tables
    assert f"movierec warehouse {tiny_marts} (read-only). Main tables: fct_ratings, dim_movies" in out
    assert re.search(r"│\s+250\s+│", out), out  # the 250 movies of the tiny sample
    assert "bias_baseline" in out and "rmse_gain_over_bias_baseline" in out  # an analysis, compiled by make sql
    # read-only: the write is refused, and the shell says so
    assert "read-only mode" in result.stderr and result.returncode != 0
    assert query(tiny_marts, "select count(*) from information_schema.tables where table_name = 'scratch'") == [(0,)]


def test_make_lab_serves_jupyterlab_with_the_warehouse_kernel(tiny_marts, tmp_path, monkeypatch):
    port, token = _free_port(), "movierec-test-token"
    env = _make_env(
        tiny_marts,
        tmp_path,
        LAB_PORT=str(port),
        OPEN_BROWSER="no",
        JUPYTER_TOKEN=token,
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
    )
    lab = Started(["--no-print-directory", "lab"], env, tmp_path / "lab.log")
    try:
        page = lab.wait_for(f"http://127.0.0.1:{port}/lab?token={token}", timeout=180)
        assert "JupyterLab" in page.text
        specs = httpx.get(f"http://127.0.0.1:{port}/api/kernelspecs?token={token}", timeout=10).json()
        assert specs["default"] == "movierec" and "movierec" in specs["kernelspecs"]
        files = httpx.get(f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=10).json()
        assert {"01_explore.ipynb", "02_models.ipynb", "03_recommend.ipynb"} <= {f["name"] for f in files["content"]}
    finally:
        lab.stop()

    # the kernel it serves: jupysql loaded and the warehouse connected before the first cell
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("MOVIEREC_WAREHOUSE", str(tiny_marts))
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("%sql select count(*) as movie_count from dim_movies"),
            nbformat.v4.new_code_cell("print(conn.sql('select count(*) from fct_ratings').fetchone()[0])"),
        ]
    )
    NotebookClient(
        notebook, timeout=120, kernel_name="movierec", resources={"metadata": {"path": str(PROJECT_ROOT / "notebooks")}}
    ).execute()
    first = notebook.cells[0].outputs[0]["data"]["text/plain"]
    assert "movie_count" in first and "250" in first
    assert notebook.cells[1].outputs[0]["text"].strip() == "30000"


def test_make_docs_generates_and_serves_the_dbt_docs(tiny_marts, tmp_path):
    port = _free_port()
    env = _make_env(tiny_marts, tmp_path, DOCS_PORT=str(port), OPEN_BROWSER="no")
    docs = Started(["--no-print-directory", "docs"], env, tmp_path / "docs.log")
    try:
        page = docs.wait_for(f"http://127.0.0.1:{port}/", timeout=400)
        assert "dbt" in page.text
        catalog = httpx.get(f"http://127.0.0.1:{port}/catalog.json", timeout=10).json()
        assert "model.movierec.fct_ratings" in catalog["nodes"]
        manifest = httpx.get(f"http://127.0.0.1:{port}/manifest.json", timeout=30).json()
        assert "analysis.movierec.which_model_wins" in manifest["nodes"]
        assert f"dbt docs: http://127.0.0.1:{port}" in docs.output()
    finally:
        docs.stop()
