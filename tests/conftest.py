"""Shared test fixtures: paths to the real data beside the project, and small helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def shared(*parts: str) -> Path:
    """A path under ../shared/data; tests using it skip when it is missing."""
    return SHARED_DATA.joinpath(*parts)


def needs(path: Path):
    return pytest.mark.skipif(not path.exists(), reason=f"real data not present: {path}")


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write {relative name: text or bytes} under folder and return it."""
    for name, content in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_bytes(content.encode("latin-1"))
        else:
            target.write_bytes(content)
    return folder


def query(warehouse: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def run_dbt(args: list[str], warehouse: Path, tmp: Path) -> subprocess.CompletedProcess:
    """Run dbt from the project root against `warehouse`, with its own target and log folders."""
    env = {**os.environ, "MOVIEREC_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    cmd = [
        str(Path(sys.executable).parent / "dbt"),
        *args,
        "--target-path",
        str(tmp / "target"),
        "--log-path",
        str(tmp / "logs"),
    ]
    result = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    return result
