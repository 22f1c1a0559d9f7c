"""The dbt vars are declared once: every var a model, macro or yml reads is declared with its default
in dbt_project.yml, no model repeats a default inline (`var('x', default)`), and
macros/validate_run.sql checks every declared var before a run. Read from the files: no dbt run."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
VAR_CALL = re.compile(r"""\bvar\(\s*['"](\w+)['"]\s*(,)?""")


def _project_files() -> list[Path]:
    folders = ["models", "python_models", "macros", "analyses", "tests/data_tests"]
    return sorted(
        p
        for folder in folders
        for p in (ROOT / folder).rglob("*")
        if p.is_file() and p.suffix in {".sql", ".yml", ".py"}
    )


def _declared() -> dict:
    return yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]


def test_every_var_used_is_declared_once_with_its_default():
    used = {}
    for path in _project_files():
        for match in VAR_CALL.finditer(path.read_text()):
            used.setdefault(match.group(1), set()).add(str(path.relative_to(ROOT)))
    undeclared = {name: sorted(files) for name, files in used.items() if name not in _declared()}
    assert not undeclared, f"vars used but not declared in dbt_project.yml: {undeclared}"
    unused = set(_declared()) - set(used)
    assert not unused, f"vars declared in dbt_project.yml but read nowhere: {sorted(unused)}"


def test_no_inline_defaults_outside_the_declaration():
    inline = [
        f"{path.relative_to(ROOT)}: var('{m.group(1)}', ...)"
        for path in _project_files()
        for m in VAR_CALL.finditer(path.read_text())
        if m.group(2)
    ]
    assert not inline, "defaults belong in dbt_project.yml only:\n" + "\n".join(inline)


def test_validate_run_checks_every_declared_var():
    text = (ROOT / "macros" / "validate_run.sql").read_text()
    checked = set(re.findall(r"_check_\w+\(errors, '(\w+)'", text)) | set(re.findall(r"var\('(\w+)'\)", text))
    missing = set(_declared()) - checked
    assert not missing, f"declared vars that macros/validate_run.sql does not check: {sorted(missing)}"
