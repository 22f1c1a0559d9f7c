"""The tutorial's figures (movierec.tutorial_figures) read from a built warehouse: every query
still runs on the marts and gives a value written the way the tutorial writes it. The check
that the tutorial quotes them is tests/unit/test_tutorial_figures.py."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from movierec.tutorial_figures import FIGURES, collect
from tests.conftest import PROJECT_ROOT

WRITTEN = re.compile(r"^(\d{1,3}(,\d{3})*|\d+\.\d+|\d+%|[A-Za-z_][\w -]*|\d+-\d+)$")


def test_tutorial_figures_read_from_a_built_warehouse(tiny_marts):
    figures = collect(tiny_marts)
    assert list(figures) == [figure.key for figure in FIGURES]
    for key, figure in figures.items():
        assert figure["text"] is not None and WRITTEN.match(figure["text"]), f"{key}: {figure['text']!r}"
    assert figures["ratings"]["text"] == "30,000" and figures["serving_model"]["text"] == "ials"
    assert figures["latent_space_model"]["text"] == "biased_mf"


def test_the_command_writes_the_json(tiny_marts, tmp_path):
    out = tmp_path / "figures.json"
    result = subprocess.run(
        [sys.executable, "-m", "movierec.tutorial_figures", "--warehouse", str(tiny_marts), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert f"wrote {len(FIGURES)} figures" in result.stdout
    assert json.loads(out.read_text()) == collect(tiny_marts)


def test_the_command_names_a_missing_warehouse(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "movierec.tutorial_figures",
            "--warehouse",
            str(tmp_path / "none.duckdb"),
            "--out",
            str(tmp_path / "f.json"),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 1
    assert "no warehouse at" in result.stderr and "run make demo first" in result.stderr
    assert not (tmp_path / "f.json").exists()


def test_a_warehouse_without_the_marts_gives_no_values_and_a_warning(tmp_path):
    """On other data (no genres, other models) `make figures` must still finish: the figures it
    lacks are null, named in a warning, and the tutorial's test names them."""
    import duckdb

    warehouse = tmp_path / "empty.duckdb"
    duckdb.connect(str(warehouse)).close()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "movierec.tutorial_figures",
            "--warehouse",
            str(warehouse),
            "--out",
            str(tmp_path / "f.json"),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert f"{len(FIGURES)} figures have no value in this warehouse" in result.stderr
    assert all(figure["text"] is None for figure in json.loads((tmp_path / "f.json").read_text()).values())
