"""How `make test` shares the suite between two workers (tests/conftest.py): whole modules, the
longest queued first, and every module named in that list exists."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import LONGEST_MODULES, PROJECT_ROOT

# the suite collected as a worker collects it (PYTEST_XDIST_WORKER set: the longest modules first)
COLLECT = """
import json, pytest
class Show:
    def pytest_collection_finish(self, session):
        print("ITEMS " + json.dumps([item.nodeid for item in session.items]))
raise SystemExit(pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "tests"], plugins=[Show()]))
"""


def test_every_listed_module_exists_once():
    assert len(LONGEST_MODULES) == len(set(LONGEST_MODULES)), "a module is listed twice"
    for module in LONGEST_MODULES:
        assert (PROJECT_ROOT / "tests" / module).is_file(), f"LONGEST_MODULES names {module}, which is gone"


def test_the_two_longest_modules_are_queued_first():
    assert LONGEST_MODULES[:2] == ["integration/test_spark_parity.py", "integration/test_docs_commands.py"]


def _pytest_line(*make_args: str) -> str:
    # without the calling make's variables (`make test PYTEST_WORKERS=0` passes them down in MAKEFLAGS)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTEST_WORKERS")}
    recipe = subprocess.run(
        ["make", "-n", "--no-print-directory", "test", *make_args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return next(line for line in recipe.splitlines() if "-m pytest" in line).rstrip()


def test_make_test_runs_whole_modules_on_two_workers_in_the_order_given():
    assert re.search(r"-m pytest -n 2 --dist loadfile --no-loadscope-reorder$", _pytest_line())
    assert _pytest_line("PYTEST_WORKERS=0").endswith("-m pytest")


@pytest.mark.slow
def test_a_worker_collects_the_longest_modules_first_each_in_one_piece():
    env = {**os.environ, "PYTEST_XDIST_WORKER": "gw0"}
    result = subprocess.run(
        [sys.executable, "-c", COLLECT], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    nodeids = json.loads(next(line[6:] for line in result.stdout.splitlines() if line.startswith("ITEMS ")))
    assert len(nodeids) > 500
    modules = [nodeid.split("::")[0].removeprefix("tests/") for nodeid in nodeids]
    runs = [module for i, module in enumerate(modules) if i == 0 or modules[i - 1] != module]
    assert len(runs) == len(set(runs)), "a module's tests are not contiguous"
    assert runs[: len(LONGEST_MODULES)] == LONGEST_MODULES
