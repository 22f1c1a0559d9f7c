"""The notebooks, executed end to end on the tiny warehouse, as `make notebooks` runs them.

Each must run without an error, read the warehouse read-only, and save its charts as PNG when
MOVIEREC_SAVE_FIGURES is set (what `make figures` uses for the README pictures). The committed
files must carry no outputs.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
# the charts each notebook saves (the README links to these names in docs/images/)
FIGURES = {
    "01_explore": {"data_flow", "rating_distribution", "ratings_over_time", "long_tail", "user_activity"},
    "02_models": {"model_rmse", "rmse_by_activity", "ranking_metrics"},
    "03_recommend": {
        "user_recommendations",
        "similar_movies",
        "latent_space",
        "genre_recovery",
        "latent_spectrum",
        "factor_extremes",
    },
}


def test_the_three_notebooks_are_there():
    assert [path.stem for path in NOTEBOOKS] == sorted(FIGURES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name}: clear the outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_end_to_end(path, tiny_marts, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    figures = tmp_path / "figures"
    # the kernel inherits the environment: the warehouse to read, where to save the charts,
    # and no usage statistics from jupysql
    monkeypatch.setenv("MOVIEREC_WAREHOUSE", str(tiny_marts))
    monkeypatch.setenv("MOVIEREC_SAVE_FIGURES", str(figures))
    monkeypatch.setenv("PLOOMBER_STATS_ENABLED", "false")
    monkeypatch.setenv("PLOOMBER_VERSION_CHECK_DISABLED", "true")
    monkeypatch.delenv("MOVIEREC_USER", raising=False)

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError with the failing cell and its traceback

    errors = [
        output for cell in notebook.cells for output in cell.get("outputs", []) if output.get("output_type") == "error"
    ]
    assert not errors
    saved = {png.stem for png in figures.glob("*.png")}
    assert saved == FIGURES[path.stem]
    for png in figures.glob("*.png"):
        assert 5_000 < png.stat().st_size < 200_000, f"{png.name}: {png.stat().st_size} bytes"
