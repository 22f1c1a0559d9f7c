"""The dbt DAG flows one way through the layers (dbt_project.yml): a model reads only models of its
own layer or of the layers above it, intermediate models never read a mart, the Python models sit
in the same layer folders as the SQL ones, and every serving contract table enforces its contract.
Read from the manifest of `dbt parse` (about 15 s: no warehouse, no model is run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The order the data flows in; a folder under models/ or python_models/ is its layer.
LAYERS = ["staging", "intermediate", "recommenders", "marts", "serving", "evaluation", "reporting"]
# What movierec.serving, the reports and the notebooks read by name from the serving layer.
SERVING_CONTRACT = [
    "movie_factors",
    "user_factors",
    "model_runs",
    "serving_config",
    "serving_user_ratings",
    "popular_movies",
    "user_recommendations",
    "similar_movies",
]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("parse")
    env = {**os.environ, "MOVIEREC_WAREHOUSE": str(tmp / "none.duckdb"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "parse",
            "--no-partial-parse",
            "--target-path",
            str(tmp / "target"),
            "--log-path",
            str(tmp / "logs"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return json.loads((tmp / "target" / "manifest.json").read_text())


def _models(manifest: dict) -> dict:
    return {key: node for key, node in manifest["nodes"].items() if node["resource_type"] == "model"}


def _layer(node: dict) -> str:
    return node["fqn"][1]


def test_every_model_sits_in_a_layer_folder(manifest):
    stray = [
        f"{node['original_file_path']}"
        for node in _models(manifest).values()
        if len(node["fqn"]) < 3 or _layer(node) not in LAYERS
    ]
    assert not stray, f"models outside the layer folders {LAYERS}: {stray}"


def test_python_models_mirror_the_sql_layers():
    sql_layers = {p.name for p in (ROOT / "models").iterdir() if p.is_dir()}
    python_layers = {p.name for p in (ROOT / "python_models").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert sql_layers == set(LAYERS)
    assert python_layers <= sql_layers, f"python_models/ folders that are no layer: {python_layers - sql_layers}"


def test_models_read_only_their_own_layer_and_the_ones_above(manifest):
    models = _models(manifest)
    backwards = []
    for node in models.values():
        for parent in node["depends_on"]["nodes"]:
            if parent in models and LAYERS.index(_layer(models[parent])) > LAYERS.index(_layer(node)):
                backwards.append(
                    f"{node['name']} ({_layer(node)}) reads {models[parent]['name']} ({_layer(models[parent])})"
                )
    assert not backwards, "arrows running back up the layers:\n" + "\n".join(backwards)


def test_no_intermediate_model_reads_a_mart(manifest):
    models = _models(manifest)
    for node in models.values():
        if _layer(node) == "intermediate":
            parents = {_layer(models[p]) for p in node["depends_on"]["nodes"] if p in models}
            assert parents <= {"staging", "intermediate"}, f"{node['name']} reads {parents}"
    # and the check itself sees the dependencies it is meant to catch
    split = next(n for n in models.values() if n["name"] == "int_ratings_split")
    assert any(models[p]["name"] == "int_ratings_subset" for p in split["depends_on"]["nodes"])


def test_serving_contract_tables_enforce_their_contract(manifest):
    by_name = {node["name"]: node for node in _models(manifest).values()}
    for name in SERVING_CONTRACT:
        node = by_name[name]
        assert _layer(node) == "serving", name
        assert node["config"]["contract"]["enforced"], f"{name}: contract not enforced"
        typed = {column: spec.get("data_type") for column, spec in node["columns"].items()}
        assert typed and all(typed.values()), f"{name}: columns without a data_type: {typed}"
