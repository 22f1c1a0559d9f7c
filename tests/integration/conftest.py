"""A tiny warehouse built once per test session, shared by the tests that only read the marts
(the Evidence report queries, the notebooks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from movierec.generate import generate
from movierec.ingest import ingest
from tests.conftest import run_dbt


@pytest.fixture(scope="session")
def tiny_marts(tmp_path_factory) -> Path:
    """The tiny sample generated, ingested and every model built (`dbt run`: the data tests run
    in test_pipeline.py). Read-only for the tests that use it."""
    tmp = tmp_path_factory.mktemp("tiny_marts")
    generate("tiny", tmp / "sample", progress=False)
    warehouse = tmp / "movierec.duckdb"
    ingest(tmp / "sample", warehouse=warehouse, quiet=True)
    run_dbt(["run"], warehouse, tmp)
    return warehouse
