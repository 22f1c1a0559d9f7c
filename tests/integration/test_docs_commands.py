"""Docs that cannot rot: every shell command in the README's and docs/tutorial.md's code blocks is
checked, in the order a reader meets it.

Which commands are run and which are only parsed (the marking convention):

- A command in a ```bash / ```sh / ```shell block is **run**, in a copy of the project (tracked
  files, the same .venv) on the tiny sample: `SAMPLE=tiny` for make, `--size demo` read as
  `--size tiny`. A block's commands share that copy, one copy per document, so a document's
  steps build on each other as they do for a reader. It fails when a command exits non-zero.
- It is only **parsed** when
  - the line before the block's opening fence is `<!-- docs-test: parse-only -->` (optionally
    with a reason after a colon): the way to mark a block that needs the full data or hours;
  - a command in the block reads files outside the project (an argument starting with `~/`):
    that block is about the real Netflix Prize download, which a test machine does not have;
  - the command serves until stopped, or is the test suite itself (`SERVED_ELSEWHERE` below):
    each of those is started for real by the test named there.
  Parsed means: `make -n TARGET` for make (the target exists and its recipe expands), `--help`
  appended for a program (it exists and accepts its arguments up to there), `compile()` for
  `python -c` code.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

DOCUMENTS = ["README.md", "docs/tutorial.md"]
SHELL_FENCES = {"bash", "sh", "shell"}
MARK = re.compile(r"^<!--\s*docs-test:\s*(?P<mark>[a-z-]+)\s*(?::[^>]*)?-->\s*$")
MARKS = {"parse-only"}

# Commands that serve until stopped (or run the suite): parsed here, started by the named test.
SERVED_ELSEWHERE = {
    "make test": "the suite itself (CI runs it)",
    "make serve": "tests/integration/test_http.py and test_serving_pipeline.py serve the API",
    "make sql": "tests/integration/test_newcomer_tools.py::test_make_sql_opens_the_warehouse_read_only_and_runs_a_question",
    "make lab": "tests/integration/test_newcomer_tools.py::test_make_lab_serves_jupyterlab_with_the_warehouse_kernel",
    "make docs": "tests/integration/test_newcomer_tools.py::test_make_docs_generates_and_serves_the_dbt_docs",
    ".venv/bin/dbt docs serve": "tests/integration/test_newcomer_tools.py::test_make_docs_generates_and_serves_the_dbt_docs",
    "make reports": "needs Node and npm; `make test-reports` (CI) builds the site offline and opens every page in chromium",
    "make reports-serve": "tests/reports_browser/test_reports_in_chromium.py serves the built site (movierec.reports_site)",
}


@dataclass
class Command:
    document: str
    line: int
    text: str  # as written, continuation lines included, comments kept (bash ignores them)
    mode: str  # "run" or "parse"
    why: str = ""

    @property
    def id(self) -> str:
        first = " ".join(self.text.split())
        return f"{self.document}:{self.line} {first[:60]}"


def _tokens(text: str) -> list[str]:
    return shlex.split(text, comments=True)


def _parts(tokens: list[str]) -> list[list[str]]:
    """A command line split at && and ; into simple commands."""
    parts, current = [], []
    for token in tokens:
        if token in ("&&", ";"):
            parts.append(current)
            current = []
        else:
            current.append(token)
    return [part for part in [*parts, current] if part]


def _served_elsewhere(tokens: list[str]) -> str | None:
    for part in _parts(tokens):
        text = " ".join(part)
        for prefix, where in SERVED_ELSEWHERE.items():
            if text == prefix or text.startswith(prefix + " "):
                return where
    return None


def extract(markdown: str, document: str) -> list[Command]:
    """The shell commands of a Markdown text, each with the line it starts on and its mode."""
    lines = markdown.splitlines()
    commands: list[Command] = []
    n = 0
    while n < len(lines):
        fence = re.match(r"^```(\w*)\s*$", lines[n])
        if not fence:
            n += 1
            continue
        language, start = fence.group(1), n
        end = next((i for i in range(n + 1, len(lines)) if lines[i].startswith("```")), len(lines))
        n = end + 1
        if language not in SHELL_FENCES:
            continue
        mark = MARK.match(lines[start - 1]) if start else None
        if start and lines[start - 1].lstrip().startswith("<!-- docs-test") and not mark:
            raise ValueError(f"{document}:{start}: unreadable docs-test mark {lines[start - 1]!r}")
        if mark and mark.group("mark") not in MARKS:
            raise ValueError(
                f"{document}:{start}: unknown docs-test mark {mark.group('mark')!r} (known: {sorted(MARKS)})"
            )

        block: list[Command] = []
        pending, pending_line = "", 0
        for i in range(start + 1, end):
            line = lines[i]
            pending_line = pending_line or i + 1
            pending = f"{pending}\n{line}" if pending else line
            try:
                tokens = _tokens(pending)
            except ValueError:  # an open quote: the command goes on
                continue
            if pending.rstrip().endswith("\\"):
                continue
            if tokens:
                block.append(Command(document, pending_line, pending.strip(), "run"))
            pending, pending_line = "", 0
        if pending.strip():
            raise ValueError(f"{document}:{pending_line}: unterminated command {pending!r}")

        real_data = any(token.startswith("~/") for command in block for token in _tokens(command.text))
        for command in block:
            if mark:
                command.mode, command.why = "parse", "marked parse-only"
            elif real_data:
                command.mode, command.why = "parse", "its block reads the real data from outside the project"
            elif where := _served_elsewhere(_tokens(command.text)):
                command.mode, command.why = "parse", f"started elsewhere: {where}"
        commands += block
    return commands


def all_commands() -> list[Command]:
    return [command for document in DOCUMENTS for command in extract((PROJECT_ROOT / document).read_text(), document)]


# --- the extractor itself, on an example with every case ---------------------------------------

EXAMPLE = """
Text.

```bash
make demo   # a comment
            # a comment line on its own
.venv/bin/python -c "import sys;
    print(sys.argv)"
.venv/bin/dbt build --vars \\
    '{a: 1}'
make serve
```

```
not shell: a diagram
```

<!-- docs-test: parse-only: hours on the full data -->
```bash
make bench
```

```sh
.venv/bin/movierec ingest ~/Downloads/netflix
.venv/bin/dbt build
```
"""


def test_extract_finds_each_command_with_its_line_and_mode():
    found = [(c.line, " ".join(c.text.split()), c.mode) for c in extract(EXAMPLE, "x.md")]
    assert found == [
        (5, "make demo # a comment", "run"),
        (7, '.venv/bin/python -c "import sys; print(sys.argv)"', "run"),
        (9, ".venv/bin/dbt build --vars \\ '{a: 1}'", "run"),
        (11, "make serve", "parse"),
        (20, "make bench", "parse"),
        (24, ".venv/bin/movierec ingest ~/Downloads/netflix", "parse"),
        (25, ".venv/bin/dbt build", "parse"),
    ]


def test_unknown_marks_are_refused():
    with pytest.raises(ValueError, match="unknown docs-test mark 'skip'"):
        extract("<!-- docs-test: skip -->\n```bash\nmake demo\n```\n", "x.md")


def test_the_documents_have_commands_of_both_kinds():
    commands = all_commands()
    for document in DOCUMENTS:
        modes = {c.mode for c in commands if c.document == document}
        assert modes == {"run", "parse"}, f"{document}: {modes}"


# --- the documents' commands, run or parsed in a copy of the project --------------------------


def _copy_project(target: Path) -> Path:
    """The project's files (tracked and new, not ignored) with their times, and a link to .venv."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    )
    for name in listing.stdout.decode().split("\0"):
        source = PROJECT_ROOT / name
        if name and source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)  # times kept: make sees .venv as up to date
    (target / ".venv").symlink_to(PROJECT_ROOT / ".venv")
    return target


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory):
    """One copy of the project per document, made on first use."""
    made: dict[str, Path] = {}

    def sandbox(document: str) -> Path:
        if document not in made:
            made[document] = _copy_project(tmp_path_factory.mktemp(Path(document).stem))
        return made[document]

    return sandbox


def _env(sandbox: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("MOVIEREC_WAREHOUSE", "DBT_TARGET_PATH", "DBT_LOG_PATH", "MAKEFLAGS", "MFLAGS")
    }
    return {
        **env,
        "SAMPLE": "tiny",
        "OPEN_BROWSER": "no",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "PLOOMBER_STATS_ENABLED": "false",
        "PLOOMBER_VERSION_CHECK_DISABLED": "true",
    }


def _check(result: subprocess.CompletedProcess, command: Command, what: str) -> None:
    assert result.returncode == 0, (
        f"{command.document} line {command.line}: `{command.text}` failed when {what} (exit {result.returncode}):\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )


def _parse(command: Command, sandbox: Path) -> None:
    for part in _parts(_tokens(command.text)):
        if part[0] == "make":
            result = subprocess.run(
                ["make", "-n", *part[1:]], cwd=sandbox, env=_env(sandbox), capture_output=True, text=True, timeout=120
            )
            _check(result, command, "parsed with make -n")
        elif Path(part[0]).name.startswith("python") and "-c" in part:
            compile(part[part.index("-c") + 1], f"{command.document}:{command.line}", "exec")
        else:
            program = sandbox / part[0] if "/" in part[0] else shutil.which(part[0])
            assert program and Path(program).exists(), f"{command.document} line {command.line}: no program {part[0]}"
            result = subprocess.run(
                [str(program), *part[1:], "--help"],
                cwd=sandbox,
                env=_env(sandbox),
                capture_output=True,
                text=True,
                timeout=120,
            )
            _check(result, command, "parsed with --help")


def _run(command: Command, sandbox: Path) -> None:
    text = re.sub(r"--size\s+demo\b", "--size tiny", command.text)
    result = subprocess.run(
        ["bash", "-c", f"set -euo pipefail\n{text}"],
        cwd=sandbox,
        env=_env(sandbox),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    _check(result, command, "run on the tiny sample")


@pytest.mark.slow
@pytest.mark.parametrize("command", all_commands(), ids=lambda c: c.id)
def test_documented_command(command, sandboxes):
    sandbox = sandboxes(command.document)
    if command.mode == "parse":
        _parse(command, sandbox)
    else:
        _run(command, sandbox)
