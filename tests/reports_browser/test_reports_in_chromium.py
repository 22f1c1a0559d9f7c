"""The built Evidence site, opened page by page in a real browser: `make test-reports`.

`make test-reports` builds the site from a warehouse made from the tiny sample and runs this file
with MOVIEREC_REPORTS_SITE=reports/build; without that variable it skips (the plain `make test`
has no site to open). The browser is Debian's `chromium` (`make chromium` installs it), driven by
Playwright for Python through `executable_path`: Playwright's own browser download is never used.

Every page of reports/pages/ is served from the build on 127.0.0.1 and opened; the test fails on
- a console error or an uncaught exception in the page;
- a request to anything but the local server (such requests are also blocked);
- a chart that draws no marks, and fewer charts than the page's markdown declares;
- a table with no rows, and fewer tables than the page declares;
- an input that does not change what it filters: every single-choice Dropdown and every
  ButtonGroup option is tried, and the page's tables and charts must change;
- on pick-movies.md: picking one movie, then a second, must each change the recommendations.
A full-page screenshot of each page is saved in reports/screenshots/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the module's tests skip without Playwright (see the browser fixture)
    PlaywrightTimeout = TimeoutError

from tests.conftest import PROJECT_ROOT

SITE = os.environ.get("MOVIEREC_REPORTS_SITE")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SITE, reason="no built site: run `make test-reports` (sets MOVIEREC_REPORTS_SITE)"),
]

PAGES_DIR = PROJECT_ROOT / "reports" / "pages"
SCREENSHOTS = PROJECT_ROOT / "reports" / "screenshots"
PAGES = sorted(PAGES_DIR.glob("*.md"))
CHART_TAGS = (
    "BarChart",
    "LineChart",
    "ScatterPlot",
    "AreaChart",
    "BubbleChart",
    "Histogram",
    "Heatmap",
    "FunnelChart",
    "SankeyDiagram",
    "BoxPlot",
    "CalendarHeatmap",
)
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
SETTLE_SECONDS = 60  # the longest a page may take to run its queries and draw
CHANGE_SECONDS = 20  # the longest an input may take to start changing what it filters

# Everything the page shows from its data, to tell whether an input changed it: each table's text
# and each chart's series (the live ECharts instances Evidence keeps in a window registry).
SNAPSHOT_JS = r"""
() => {
  const registry = window[Symbol.for('__evidence-chart-window-debug__')] || {};
  const drawn = (element) => {
    if (!element) return 0;
    if (element.isGroup) return element.children().reduce((n, child) => n + drawn(child), 0);
    return element.invisible ? 0 : 1;
  };
  const finite = (value) => typeof value === 'number' && Number.isFinite(value);
  const numbers = (item) => {
    const value = item && typeof item === 'object' && !Array.isArray(item) ? item.value : item;
    return (Array.isArray(value) ? value : [value]).map((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v));
  };
  const charts = Object.values(registry)
    .filter((chart) => !chart.isDisposed() && document.body.contains(chart.getDom()))
    .map((chart) => {
      const option = chart.getOption() || {};
      const series = (option.series || []).map((s) => {
        const data = s.data || [];
        const points = data.filter((item) => numbers(item).some(finite)).length;
        // a bar of height 0 draws nothing: count the bars whose value is not 0
        const bars = data.filter((item) => numbers(item).some((v) => finite(v) && v !== 0)).length;
        return { type: s.type, name: s.name ?? null, points, marks: s.type === 'bar' ? bars : points,
                 data: JSON.stringify(data).slice(0, 4000) };
      });
      const views = chart._chartsViews || [];
      const rect = chart.getDom().getBoundingClientRect();
      return {
        id: chart.id,
        top: Math.round(rect.top + window.scrollY),
        marks: series.reduce((n, s) => n + s.marks, 0),
        drawn: views.reduce((n, view) => n + drawn(view.group), 0),
        series,
      };
    })
    .sort((a, b) => a.top - b.top);
  // DataTable keeps a hidden copy of each table (for full screen): count the visible ones
  const tables = [...document.querySelectorAll('table')].filter((table) => table.checkVisibility()).map((table) => ({
    rows: [...table.querySelectorAll('tr')].filter((row) => !row.closest('thead')).length,
    text: table.innerText.slice(0, 4000),
  }));
  const loading = document.querySelectorAll('.animate-pulse').length;
  return { charts, tables, loading };
}
"""


@dataclass
class Declared:
    """What a page's markdown declares: charts, tables and inputs."""

    charts: int
    tables: int
    dropdowns: list[dict[str, str]] = field(default_factory=list)
    button_groups: list[dict] = field(default_factory=list)  # attributes, and "items": their labels

    @classmethod
    def of(cls, path: Path) -> Declared:
        text = re.sub(r"^```sql.*?^```", "", path.read_text(), flags=re.MULTILINE | re.DOTALL)
        charts = len(re.findall(r"<(?:%s)\b" % "|".join(CHART_TAGS), text))
        tables = len(re.findall(r"<DataTable\b", text))

        def attributes(tag):
            return dict(
                (m.group(1), next(g for g in m.groups()[1:] if g is not None))
                for m in re.finditer(r"([\w-]+)=(?:\"([^\"]*)\"|'([^']*)'|\{([^}]*)\}|([^\s/>]+))", tag)
            )

        dropdowns = [attributes(tag) for tag in re.findall(r"<Dropdown\b[^>]*>", text)]
        button_groups = []
        for tag, body in re.findall(r"(<ButtonGroup\b[^>]*>)(.*?)</ButtonGroup>", text, flags=re.DOTALL):
            group = attributes(tag)
            group["items"] = [
                attributes(item).get("valueLabel") or attributes(item)["value"]
                for item in re.findall(r"<ButtonGroupItem\b[^>]*>", body)
            ]
            button_groups.append(group)
        return cls(charts, tables, dropdowns, button_groups)


def route_of(path: Path) -> str:
    return "/" if path.stem == "index" else f"/{path.stem}"


def chromium_executable() -> str:
    executable = os.environ.get("MOVIEREC_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        pytest.fail("no chromium on PATH: `make chromium` installs Debian's (apt-get install chromium)")
    return executable


@pytest.fixture(scope="module")
def site_url():
    from movierec.reports_site import serve_in_background, url_of

    server = serve_in_background(Path(SITE))
    yield url_of(server)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable(), headless=True)
        yield browser
        browser.close()


class Visit:
    """One page in a fresh browser context, with its console errors and outside requests."""

    def __init__(self, browser, url: str) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on(
            "console",
            lambda message: (
                message.type == "error"
                and self.errors.append(f"console: {message.text} ({message.location.get('url', '')})")
            ),
        )
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        self.page.goto(url, wait_until="load")
        self.snapshot = self.settle()

    def _route(self, route) -> None:
        host = urlsplit(route.request.url).hostname
        if host in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def settle(self) -> dict:
        """Wait until nothing is loading and the tables and charts have stopped changing."""
        deadline = time.monotonic() + SETTLE_SECONDS
        try:  # the parquet files and the DuckDB-WASM bundle; then the loop below waits for the drawing
            self.page.wait_for_load_state("networkidle", timeout=SETTLE_SECONDS * 1000)
        except PlaywrightTimeout:
            pass  # a page still fetching after that is caught by the checks on what it shows
        last, stable_since = None, time.monotonic()
        while time.monotonic() < deadline:
            snapshot = self.page.evaluate(SNAPSHOT_JS)
            key = json.dumps(snapshot, sort_keys=True)
            if key != last:
                last, stable_since = key, time.monotonic()
            elif snapshot["loading"] == 0 and time.monotonic() - stable_since >= 1.5:
                return snapshot
            time.sleep(0.25)
        return self.page.evaluate(SNAPSHOT_JS)

    def settle_after_input(self, before: str) -> dict:
        """After an input changed: wait (up to CHANGE_SECONDS) for the tables or charts to differ
        from `before`, then until they stop changing. On a busy machine a query may start only
        after a quiet spell of `settle` has passed, so "quiet" alone cannot mean "done". An input
        that changes nothing still fails: the content stays equal to `before` until the deadline."""
        deadline = time.monotonic() + CHANGE_SECONDS
        while time.monotonic() < deadline and content(self.page.evaluate(SNAPSHOT_JS)) == before:
            time.sleep(0.25)
        return self.settle()

    def close(self) -> None:
        self.context.close()


def content(snapshot: dict) -> str:
    """What an input may change: the text of the tables and the data of the charts."""
    return json.dumps(
        {
            "tables": [t["text"] for t in snapshot["tables"]],
            "charts": [[s["data"] for s in c["series"]] for c in snapshot["charts"]],
        }
    )


def check_drawn(name: str, declared: Declared, snapshot: dict) -> list[str]:
    problems = []
    if len(snapshot["charts"]) < declared.charts:
        problems.append(f"{name}: {len(snapshot['charts'])} charts drawn, the page declares {declared.charts}")
    for number, chart in enumerate(snapshot["charts"], 1):
        if chart["marks"] == 0 or chart["drawn"] == 0:
            problems.append(
                f"{name}: chart {number} draws no marks (series: "
                f"{[(s['type'], s['name'], s['points']) for s in chart['series']]})"
            )
    if len(snapshot["tables"]) < declared.tables:
        problems.append(f"{name}: {len(snapshot['tables'])} tables shown, the page declares {declared.tables}")
    for number, table in enumerate(snapshot["tables"], 1):
        if table["rows"] == 0:
            problems.append(f"{name}: table {number} has no rows: {table['text'][:200]!r}")
    if snapshot["loading"]:
        problems.append(f"{name}: still loading after {SETTLE_SECONDS}s ({snapshot['loading']} placeholders)")
    return problems


def dropdown_button(visit: Visit, dropdown: dict[str, str]):
    return visit.page.get_by_role("combobox", name=dropdown.get("title") or dropdown["name"], exact=True)


def open_options(visit: Visit, dropdown: dict[str, str]):
    """Open a Dropdown; returns the locator of its options (without Select all / Clear selection)."""
    button = dropdown_button(visit, dropdown)
    if not button.count():
        raise AssertionError(
            f"Dropdown {dropdown['name']} ({dropdown.get('title')!r}) is not on the page (its options query failed?)"
        )
    button.click(timeout=10_000)
    options = visit.page.get_by_role("option").filter(has_not_text=re.compile(r"^(Select all|Clear selection)$"))
    options.first.wait_for(timeout=10_000)
    return options


def close_options(visit: Visit) -> None:
    if visit.page.get_by_role("option").count():
        visit.page.keyboard.press("Escape")


def choose(visit: Visit, dropdown: dict[str, str], index: int = -1) -> str:
    """Click the option at `index` of a Dropdown; returns its text."""
    options = open_options(visit, dropdown)
    option = options.nth(index if index >= 0 else options.count() + index)
    text = option.inner_text().strip()
    option.click()
    close_options(visit)
    return text


def search_and_choose(visit: Visit, dropdown: dict[str, str], label: str) -> None:
    """Type a word of `label` in the Dropdown's search box, then click the option `label`."""
    open_options(visit, dropdown)
    word = max(re.findall(r"[A-Za-z]{3,}", label) or [label], key=len)
    visit.page.get_by_placeholder(dropdown.get("title") or dropdown["name"]).fill(word)
    option = visit.page.get_by_role("option").filter(has_text=label).first
    option.wait_for(timeout=10_000)
    option.click()
    close_options(visit)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_page_loads_draws_and_reacts_in_chromium(path, browser, site_url):
    name, declared = path.name, Declared.of(path)
    visit = Visit(browser, site_url + route_of(path))
    problems: list[str] = []
    try:
        multiple = [d for d in declared.dropdowns if d.get("multiple", "false") != "false"]
        single = [d for d in declared.dropdowns if d not in multiple]
        for dropdown in multiple:  # pick-movies: one pick, then a second, each must change the list
            before = content(visit.snapshot)
            options = open_options(visit, dropdown)
            second = options.nth(min(5, options.count() - 1)).inner_text().strip()
            close_options(visit)
            first = choose(visit, dropdown, 0)
            visit.snapshot = visit.settle_after_input(before)
            after_one = content(visit.snapshot)
            search_and_choose(visit, dropdown, second)  # found through the search box, as a visitor would
            visit.snapshot = visit.settle_after_input(after_one)
            if after_one == before:
                problems.append(f"{name}: picking {first!r} in {dropdown['name']} changed nothing")
            if content(visit.snapshot) == after_one:
                problems.append(f"{name}: picking a second movie {second!r} changed nothing")

        problems += check_drawn(name, declared, visit.snapshot)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        visit.page.screenshot(path=str(SCREENSHOTS / f"{path.stem}.png"), full_page=True)

        for dropdown in single:
            before = content(visit.snapshot)
            chosen = choose(visit, dropdown)
            visit.snapshot = visit.settle_after_input(before)
            if content(visit.snapshot) == before:
                problems.append(f"{name}: choosing {chosen!r} in Dropdown {dropdown['name']} changed no table or chart")
            problems += check_drawn(f"{name} after {dropdown['name']}={chosen!r}", declared, visit.snapshot)

        for group in declared.button_groups:
            labels = group["items"]
            assert len(labels) >= 2, f"{name}: ButtonGroup {group['name']} has items {labels}"
            for label in labels[1:] + labels[:1]:  # every option, ending back on the first
                before = content(visit.snapshot)
                visit.page.get_by_role("group").get_by_role("button", name=label, exact=True).click()
                visit.snapshot = visit.settle_after_input(before)
                if content(visit.snapshot) == before:
                    problems.append(f"{name}: ButtonGroup {group['name']}={label!r} changed no table or chart")
                problems += check_drawn(f"{name} after {group['name']}={label!r}", declared, visit.snapshot)
    except Exception as error:  # an input that cannot be used: report it with the console errors
        problems.append(f"{name}: {type(error).__name__}: {str(error).splitlines()[0]}")
    finally:
        problems += visit.errors + [f"{name}: request outside localhost: {url}" for url in visit.outside]
        visit.close()
    assert not problems, "\n".join(problems)


def test_every_page_is_in_the_build():
    site = Path(SITE)
    for path in PAGES:
        route = route_of(path).strip("/")
        candidates = [site / "index.html"] if not route else [site / f"{route}.html", site / route / "index.html"]
        assert any(c.is_file() for c in candidates), f"{path.name} is not in the build at {site}"
