"""Shared test fixtures: paths to the real data beside the project, and small helpers; and how
`make test` shares the suite between two pytest-xdist workers (the groups below)."""

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


# --- Two workers (`make test`: pytest -n 2 --dist loadfile --no-loadscope-reorder) -------------
# Each test module is one unit of work, run whole on one worker in its own order: its module-scoped
# fixture (a dbt build of a tiny sample, ~10-160 s) is then built once, not once per worker (the
# session-scoped ones, such as tiny_marts, are built once per worker), and
# test_docs_commands' commands still build on each other in one copy of the project. No two tests
# write to a shared place: every build has its own warehouse, target and log folders under tmp_path
# (each worker has its own basetemp), test_docs_commands runs the README's commands in copies of
# the project, and the servers of test_newcomer_tools take free ports. (Not `--dist loadgroup`:
# pytest-xdist 3.8.0 groups by renaming each test, which pytest 9 no longer lets it do.)
#
# The workers take the modules longest first, so neither is left alone with a long one at the end:
# the modules listed here first, in this order (seconds on a quiet 2-core machine, serial run), then
# every other module in collection order (each a few seconds at most). Spark parity and the
# documented commands, the two longest, go one to each worker from the start.
LONGEST_MODULES: list[str] = [
    "integration/test_spark_parity.py",  # ~160 s: dbt build --target spark
    "integration/test_docs_commands.py",  # ~115 s: make demo, dbt build, make notebooks
    "integration/test_serving_pipeline.py",  # ~75 s
    "integration/test_generic_build.py",  # ~75 s
    "integration/test_no_leakage.py",  # ~70 s
    "unit/test_serving.py",  # ~50 s
    "integration/test_newcomer_tools.py",  # ~55 s: make docs, make lab
    "integration/test_genre_recovery.py",  # ~45 s
    "integration/test_exploration_marts.py",  # ~35 s
    "integration/test_pipeline.py",  # ~30 s
    "integration/test_notebooks.py",  # ~20 s
    "integration/test_http.py",  # ~15 s
    "unit/test_dbt_layers.py",  # ~15 s: dbt parse
]
_RANK = {module: rank for rank, module in enumerate(LONGEST_MODULES)}


def _module(item: pytest.Item) -> str:
    try:
        return Path(item.path).resolve().relative_to((PROJECT_ROOT / "tests").resolve()).as_posix()
    except ValueError:  # collected from outside tests/: queued with the short modules
        return ""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # the controller queues the modules in the workers' collection order (the same in each
        # worker): the longest first; a stable sort keeps each module's own order
        items.sort(key=lambda item: _RANK.get(_module(item), len(LONGEST_MODULES)))
