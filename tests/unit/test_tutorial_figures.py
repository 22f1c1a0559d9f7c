"""The tutorial's figures are the demo build's: every number docs/tutorial.md quotes is checked.

The mechanism, in three parts:

- `movierec.tutorial_figures` defines each figure the tutorial quotes once: a key, the SQL that
  reads it from the marts, and how it is written ("0.169", "83%", "1,000,000", "biased_mf").
  `make figures` (which also redraws docs/images/*.png from the same warehouse) and `make
  tutorial-figures` write them all to docs/images/demo_figures.json, committed with the charts.
- In the tutorial a quoted demo figure is followed, with no space, by a marker naming its key:
  `0.169<!-- demo:ndcg_ease -->`. Markdown renders the marker invisibly. A figure that comes
  from elsewhere says so the same way, `51%<!-- source: ml-100k, test_genre_recovery.py -->`,
  and a block of such figures (the sample-vs-MovieLens table) sits between
  `<!-- figures-from: SOURCE -->` and `<!-- /figures-from -->`.
- This test (fast, no warehouse) then fails when
  - a marked figure is not written exactly as the JSON has it (the build changed, or a typo);
  - a marker names a key the JSON does not have, or a key of the JSON is quoted nowhere;
  - the prose quotes a figure (a decimal number or a percentage, outside code blocks and
    figures-from regions) with no marker: it could drift unseen. Numbers that are settings
    rather than results (the 95% of an interval) are listed in `NOT_FIGURES` below. Whole
    numbers ("10 nearest neighbours", "18 genres", a year) are not checked for a marker: too
    many are not results; the counts the build gives (ratings, users) are marked all the same.

So when a rebuild changes a figure, `make figures` rewrites the JSON, this test names each line
of the tutorial to update, and the tutorial cannot quietly keep the old number. The integration
test test_tutorial_figures_read_from_a_built_warehouse checks that every query still runs on the
marts.

Why markers rather than a template rendered by `make figures`: the tutorial stays the plain
Markdown that people read on GitHub and edit by hand, sentences can be rewritten freely around
a figure, and a stale number is a failing test that names its line, not a silent rewrite.
"""

from __future__ import annotations

import json
import re

import pytest

from movierec.tutorial_figures import FIGURES
from tests.conftest import PROJECT_ROOT

TUTORIAL = PROJECT_ROOT / "docs" / "tutorial.md"
FIGURES_JSON = PROJECT_ROOT / "docs" / "images" / "demo_figures.json"

DEMO = re.compile(r"<!-- demo:(?P<key>[a-z0-9_]+) -->")
MARKER = re.compile(r"<!--.*?-->")
SOURCE = re.compile(r"^<!-- source: [^>]+-->")
REGION_START = re.compile(r"^<!-- figures-from: [^>]+-->\s*$")
REGION_END = "<!-- /figures-from -->"
# a decimal number or a percentage: "0.169", "83%", "2.8"; not "1,000" nor "2001"
QUOTED = re.compile(r"(?<![\w.,/-])\d+(?:\.\d+%?|%)(?![\w.]*\d)")
# numbers in prose that are settings or definitions, not results of the build
NOT_FIGURES = ["95%", "80%", "1%", "10%"]


def _prose_lines(markdown: str) -> list[tuple[int, str]]:
    """The tutorial's lines outside code blocks and figures-from regions, numbered from 1."""
    lines, inside_code, inside_region = [], False, False
    for number, line in enumerate(markdown.splitlines(), start=1):
        if line.startswith("```"):
            inside_code = not inside_code
            continue
        if REGION_START.match(line):
            inside_region = True
            continue
        if line.strip() == REGION_END:
            inside_region = False
            continue
        if not inside_code and not inside_region:
            lines.append((number, line))
    return lines


def marked_figures(markdown: str) -> list[tuple[int, str, str]]:
    """(line, text before the marker on its line, key) for every demo marker. Bold (`**`) and
    code (`` ` ``) around a figure are not part of it."""
    found = []
    for number, line in _prose_lines(markdown):
        for match in DEMO.finditer(line):
            before = MARKER.sub("", line[: match.start()]).rstrip("*`")
            found.append((number, before, match.group("key")))
    return found


def is_written(before: str, figure: str) -> bool:
    """Whether the text before a marker ends with the figure, as a whole word: "0.169" ends
    "reaches 0.169" but not "reaches 10.169"."""
    if not before.endswith(figure):
        return False
    rest = before[: len(before) - len(figure)]
    return not rest or not (rest[-1].isalnum() or rest[-1] in ".,-")


def unmarked_figures(markdown: str) -> list[tuple[int, str]]:
    """(line, figure) for every decimal or percentage in prose that has no marker after it."""
    found = []
    for number, line in _prose_lines(markdown):
        for match in QUOTED.finditer(line):
            rest = line[match.end() :].lstrip("*")
            if rest.startswith("<!-- demo:") or SOURCE.match(rest):
                continue
            if match.group() in NOT_FIGURES:
                continue
            found.append((number, match.group()))
    return found


@pytest.fixture(scope="module")
def figures() -> dict[str, str]:
    return {key: value["text"] for key, value in json.loads(FIGURES_JSON.read_text()).items()}


def test_every_marked_figure_is_the_demo_builds(figures):
    wrong = [
        f"docs/tutorial.md:{line}: {key}: the demo build has {figures[key]!r}, the text before the marker is "
        f"{before[-40:]!r}"
        for line, before, key in marked_figures(TUTORIAL.read_text())
        if key in figures and not (figures[key] and is_written(before, figures[key]))
    ]
    unknown = [
        f"docs/tutorial.md:{line}: no figure {key!r} in {FIGURES_JSON.name}"
        for line, _, key in marked_figures(TUTORIAL.read_text())
        if key not in figures
    ]
    assert not wrong + unknown, "\n".join(wrong + unknown)


def test_every_figure_of_the_json_is_quoted(figures):
    quoted = {key for _, _, key in marked_figures(TUTORIAL.read_text())}
    assert sorted(set(figures) - quoted) == []


def test_the_json_has_every_defined_figure(figures):
    assert list(figures) == [figure.key for figure in FIGURES], "run make tutorial-figures on the demo warehouse"


def test_the_tutorial_quotes_no_unmarked_figure():
    found = unmarked_figures(TUTORIAL.read_text())
    assert not found, "figures with no <!-- demo:KEY --> or <!-- source: ... --> marker:\n" + "\n".join(
        f"docs/tutorial.md:{line}: {figure}" for line, figure in found
    )


# --- the checker itself, on an example with every case -----------------------------------------

EXAMPLE = """\
EASE reaches 0.169<!-- demo:ndcg_ease --> against **0.060**<!-- demo:ndcg_popularity -->
(2.8<!-- demo:ratio --> times), 83%<!-- demo:recovery -->; ml-100k 51%<!-- source: tests -->.
A 95% interval. An unmarked 0.5 and 12% here, 1,000 times, in 2001, 18 genres, nDCG@10.

```bash
make demo --size 0.25
```

<!-- figures-from: benchmarks/bench_sample_realism.py -->
| 0.204 | 56.5% |
<!-- /figures-from -->
The head: 7%<!-- demo:head --> of the movies.
"""


def test_the_checker_finds_marked_and_unmarked_figures():
    assert [(line, key) for line, _, key in marked_figures(EXAMPLE)] == [
        (1, "ndcg_ease"),
        (1, "ndcg_popularity"),
        (2, "ratio"),
        (2, "recovery"),
        (12, "head"),
    ]
    befores = [before for _, before, _ in marked_figures(EXAMPLE)]
    assert [is_written(before, figure) for before, figure in zip(befores, ["0.169", "0.060", "2.8", "83%", "7%"])] == [
        True
    ] * 5
    assert not is_written(befores[0], "169") and not is_written(befores[0], "0.16")
    assert is_written("runs from Drama and Comedy", "Drama and Comedy")
    assert not is_written("runs from Drama and Comedy", "Comedy and")
    assert unmarked_figures(EXAMPLE) == [(3, "0.5"), (3, "12%")]
