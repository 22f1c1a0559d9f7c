"""The whole pipeline on the tiny built-in sample: generate, ingest, dbt build."""

from __future__ import annotations

from pathlib import Path

import pytest

from movierec.generate import generate
from movierec.ingest import ingest
from tests.conftest import query
from tests.conftest import run_dbt as dbt

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_warehouse(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("pipeline")
    generate("tiny", tmp / "sample", progress=False)
    warehouse = tmp / "movierec.duckdb"
    ingest(tmp / "sample", warehouse=warehouse, quiet=True)
    dbt(["build"], warehouse, tmp)
    return warehouse


def test_dbt_build_fills_the_marts_from_the_raw_tables(tiny_warehouse):
    raw = query(tiny_warehouse, "select count(*), count(distinct user_id), count(distinct movie_id) from raw.ratings")
    fct = query(tiny_warehouse, "select count(*), count(distinct user_id), count(distinct movie_id) from fct_ratings")
    assert fct == raw and raw[0][0] > 10_000
    movies = query(tiny_warehouse, "select count(*), count(title) from dim_movies")[0]
    assert movies[0] == raw[0][2] and movies[1] == movies[0]


def test_every_raw_line_is_accounted_for(tiny_warehouse):
    ((lines, accounted),) = query(
        tiny_warehouse, "select sum(lines), sum(headers + blank + loaded + rejected + duplicates) from raw.files"
    )
    assert lines == accounted
    assert query(tiny_warehouse, "select count(*) from raw.rejects") == [(0,)]
    assert query(tiny_warehouse, "select count(*) from raw.probe")[0][0] > 0
