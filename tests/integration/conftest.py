"""A tiny warehouse built once per test session, shared by the tests that only read the marts
(the Evidence report queries, the notebooks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from movierec.generate import generate
from movierec.ingest import ingest
from tests.conftest import PROJECT_ROOT


def run_dbt(args: list[str], warehouse: Path, tmp: Path) -> subprocess.CompletedProcess:
    """Run dbt from the project root against `warehouse`, with its own target and log folders."""
    env = {**os.environ, "MOVIEREC_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    cmd = [str(Path(sys.executable).parent / "dbt"), *args,
           "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")]
    result = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    return result


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
