"""Every SQL query of the Evidence app, run offline against a built warehouse.

Evidence runs its source queries with DuckDB (node), stores each result as a table
`<source>.<query>`, and runs the pages' queries on those tables in DuckDB-WASM, which needs an
extension download that may be impossible here. This test does the same with Python DuckDB:

1. every `reports/sources/<source>/*.sql` must be thin (`select * from main.<mart>`) and runs
   against the warehouse; its result becomes the table `<source>.<query>` of an in-memory
   database, as in Evidence;
2. every ```sql block of every page runs on those tables only, with the page's templates filled
   in: `${inputs.x}` / `${inputs.x.value}` / `${inputs.x.label}` by representative values of the
   input (the first, middle and last option of a Dropdown's query, every ButtonGroupItem or
   DropdownOption; a multi-select Dropdown's first option, then its first two), `${params.x}`
   by PARAMS, `${other_query}` by that query as a subquery;
3. each query must run and return rows, and every component bound to a query (`data={q}`) may
   only name columns that the query returns.

When reports/node_modules is installed (`make reports` or `cd reports && npm ci`), every page is
also compiled by Evidence's preprocessor and Svelte (`npm run check`), which needs no network.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow

REPORTS = PROJECT_ROOT / "reports"
SOURCES = sorted((REPORTS / "sources").glob("*/*.sql"))
PAGES = sorted((REPORTS / "pages").rglob("*.md"))

# ${params.x} of templated pages (pages/[x].md): a representative value per parameter.
PARAMS: dict[str, str] = {}

THIN_SOURCE = re.compile(r"^select \* from main\.(\w+)$", re.IGNORECASE)
QUERY_BLOCK = re.compile(r"^```sql[ \t]+(\w+)[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
TEMPLATE = re.compile(r"\$\{\s*([\w.]+)\s*\}")
TAG = re.compile(r"<([A-Z]\w*)((?:\s+[\w-]+(?:=(?:\"[^\"]*\"|'[^']*'|\{[^}]*\}|[^\s/>]+))?)*)\s*(/?)>")
ATTRIBUTE = re.compile(r"([\w-]+)(?:=(?:\"([^\"]*)\"|'([^']*)'|\{([^}]*)\}|([^\s/>]+)))?")
# component attributes that name a column of the component's data
COLUMN_ATTRIBUTES = {
    "x",
    "y",
    "y2",
    "value",
    "column",
    "series",
    "label",
    "tooltipTitle",
    "size",
    "id",
    "sort",
    "comparison",
}


def sql_literal(value) -> str:
    """A value as Evidence's multi-select inputs write it into SQL: numbers bare, text quoted."""
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def strip_sql_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql).strip().rstrip(";").strip()


@dataclass
class Component:
    name: str
    attributes: dict[str, str]
    braced: set[str]
    children: list[Component] = field(default_factory=list)


def parse_components(markdown: str) -> list[Component]:
    """The Svelte components of a page (tags starting with a capital), children nested under their
    parent, outside the ```sql blocks."""
    text = QUERY_BLOCK.sub("", markdown)
    roots: list[Component] = []
    stack: list[Component] = []
    for match in re.finditer(r"</([A-Z]\w*)\s*>|" + TAG.pattern, text):
        if match.group(1):  # a closing tag
            while stack and stack[-1].name != match.group(1):
                stack.pop()
            if stack:
                stack.pop()
            continue
        name, raw, self_closing = match.group(2), match.group(3), match.group(4)
        attributes, braced = {}, set()
        for attribute in ATTRIBUTE.finditer(raw):
            key = attribute.group(1)
            values = [attribute.group(i) for i in (2, 3, 4, 5)]
            attributes[key] = next((v for v in values if v is not None), "true")
            if attribute.group(4) is not None:
                braced.add(key)
        component = Component(name, attributes, braced)
        (stack[-1].children if stack else roots).append(component)
        if not self_closing:
            stack.append(component)
    return roots


def walk(components: list[Component]):
    for component in components:
        yield component
        yield from walk(component.children)


@dataclass
class Page:
    path: Path
    queries: dict[str, str]
    components: list[Component]

    @classmethod
    def read(cls, path: Path) -> Page:
        markdown = path.read_text()
        queries = {name: body.strip() for name, body in QUERY_BLOCK.findall(markdown)}
        return cls(path, queries, parse_components(markdown))

    @property
    def name(self) -> str:
        return str(self.path.relative_to(REPORTS / "pages"))


@pytest.fixture(scope="module")
def report_db(tiny_marts):
    """An in-memory DuckDB holding every source query's result as `<source>.<query>`, like
    Evidence's source tables, and nothing else."""
    con = duckdb.connect()
    con.execute(f"attach '{tiny_marts}' as warehouse (read_only)")
    for path in SOURCES:
        schema, table = path.parent.name, path.stem
        con.execute(f"create schema if not exists memory.{schema}")
        con.execute("use warehouse")
        con.execute(f"create table memory.{schema}.{table} as {strip_sql_comments(path.read_text())}")
    con.execute("use memory")
    con.execute("detach warehouse")
    yield con
    con.close()


class Resolver:
    """Fills in a page's templates: inputs with representative values, queries as subqueries."""

    def __init__(self, page: Page, con: duckdb.DuckDBPyConnection) -> None:
        self.page, self.con = page, con
        self._options: dict[str, list[tuple[str, str]]] = {}

    def inputs_of(self, sql: str, seen: frozenset = frozenset()) -> set[str]:
        names = set()
        for reference in TEMPLATE.findall(sql):
            head, *rest = reference.split(".")
            if head == "inputs":
                names.add(rest[0])
            elif head in self.page.queries and head not in seen:
                names |= self.inputs_of(self.page.queries[head], seen | {head})
        return names

    def options(self, name: str) -> list[tuple[str, str]]:
        """Representative (value, label) pairs of input `name`, as SQL text to paste in."""
        if name not in self._options:
            self._options[name] = self._find_options(name)
        return self._options[name]

    def _find_options(self, name: str) -> list[tuple[str, str]]:
        for component in walk(self.page.components):
            if component.attributes.get("name") != name:
                continue
            static = [
                (c.attributes["value"], c.attributes.get("valueLabel", c.attributes["value"]))
                for c in component.children
                if c.name in {"DropdownOption", "ButtonGroupItem"}
            ]
            if static:
                return static
            data = component.attributes.get("data")
            assert data in self.page.queries, f"{self.page.name}: input {name} reads unknown query {data!r}"
            value_column = component.attributes.get("value", "value")
            label_column = component.attributes.get("label", value_column)
            rows = self.run_all(data)
            assert rows, f"{self.page.name}: input {name} has no options (query {data} is empty)"
            values = [rows[i] for i in sorted({0, len(rows) // 2, len(rows) - 1})]
            if component.attributes.get("multiple", "false") != "false":
                # a multi-select Dropdown gives `(v1, v2, ...)`, ready for `in`: one pick, then two
                picks = [values[:1], values[:2]]
                return [
                    (
                        "(" + ", ".join(sql_literal(row[value_column]) for row in pick) + ")",
                        ", ".join(str(row[label_column]) for row in pick),
                    )
                    for pick in picks
                ]
            return [(str(row[value_column]), str(row[label_column])) for row in values]
        raise AssertionError(f"{self.page.name}: ${{inputs.{name}}} is used but no input is named {name}")

    def resolve(self, sql: str, choice: dict[str, tuple[str, str]], seen: frozenset = frozenset()) -> str:
        def replace(match: re.Match) -> str:
            head, *rest = match.group(1).split(".")
            if head == "inputs":
                value, label = choice[rest[0]]
                return label if rest[1:] == ["label"] else value
            if head == "params":
                assert rest[0] in PARAMS, f"{self.page.name}: add a representative value for params.{rest[0]} to PARAMS"
                return PARAMS[rest[0]]
            assert head in self.page.queries, f"{self.page.name}: ${{{match.group(1)}}} names no query of the page"
            assert head not in seen, f"{self.page.name}: query {head} refers to itself"
            return "(" + self.resolve(strip_sql_comments(self.page.queries[head]), choice, seen | {head}) + ")"

        return TEMPLATE.sub(replace, sql)

    def choices(self, sql: str):
        names = sorted(self.inputs_of(sql))
        for combination in itertools.product(*(self.options(name) for name in names)):
            yield dict(zip(names, combination))

    def run_all(self, query: str) -> list[dict]:
        """Rows of `query` for its first choice of inputs (used for options and column checks)."""
        choice = next(self.choices(self.page.queries[query]))
        return self.run(query, choice)[1]

    def run(self, query: str, choice: dict) -> tuple[list[str], list[dict]]:
        sql = self.resolve(strip_sql_comments(self.page.queries[query]), choice)
        try:
            result = self.con.execute(sql)
        except duckdb.Error as error:
            raise AssertionError(
                f"{self.page.name}: query {query} fails with inputs {choice}:\n{sql}\n{error}"
            ) from None
        columns = [d[0] for d in result.description]
        return columns, [dict(zip(columns, row)) for row in result.fetchall()]


@pytest.mark.skipif(
    not (REPORTS / "node_modules" / "@evidence-dev").exists() or shutil.which("node") is None,
    reason="reports/node_modules not installed (cd reports && npm ci)",
)
def test_pages_compile_with_evidence():
    result = subprocess.run(["node", "check-pages.mjs"], cwd=REPORTS, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_app_has_sources_and_pages():
    assert len(SOURCES) >= 10 and len(PAGES) >= 7
    assert (REPORTS / "sources" / "movierec" / "connection.yaml").exists()


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}.{p.stem}")
def test_source_query_is_thin_and_returns_rows(path, report_db):
    sql = strip_sql_comments(path.read_text())
    assert THIN_SOURCE.match(sql), f"{path.name}: a source query is `select * from main.<mart>`; put logic in dbt"
    count = report_db.execute(f"select count(*) from {path.parent.name}.{path.stem}").fetchone()[0]
    assert count > 0, f"{path.name}: the source table is empty on the tiny sample"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_page_queries_run_and_return_rows(path, report_db):
    page = Page.read(path)
    assert page.queries, f"{page.name} has no queries"
    resolver = Resolver(page, report_db)
    for query, sql in page.queries.items():
        assert re.search(r"\bmovierec\.\w+|\$\{", sql), f"{page.name}: query {query} reads no source table"
        for choice in resolver.choices(sql):
            _, rows = resolver.run(query, choice)
            assert rows, f"{page.name}: query {query} returns no rows with inputs {choice}"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_components_name_columns_of_their_query(path, report_db):
    page = Page.read(path)
    resolver = Resolver(page, report_db)
    columns_of: dict[str, list[str]] = {}

    def check(component: Component, query: str) -> None:
        if query not in columns_of:
            choice = next(resolver.choices(page.queries[query]))
            columns_of[query] = resolver.run(query, choice)[0]
        for key, value in component.attributes.items():
            if key not in COLUMN_ATTRIBUTES or (component.name in {"ButtonGroupItem", "DropdownOption"}):
                continue
            if key == "sort" and value in {"true", "false"}:
                continue
            names = re.findall(r"'([^']+)'", value) if key in component.braced else [value.split()[0]]
            for column in names:
                assert column in columns_of[query], (
                    f"{page.name}: <{component.name} {key}={value}> names no column of query {query} "
                    f"({', '.join(columns_of[query])})"
                )

    def visit(components: list[Component], data: str | None) -> None:
        for component in components:
            own = component.attributes.get("data") if "data" in component.braced else None
            if own is not None:
                assert own in page.queries, f"{page.name}: <{component.name} data={{{own}}}> names no query"
            current = own or (data if component.name == "Column" else None)
            if current is not None:
                check(component, current)
            visit(component.children, own or data)

    visit(page.components, None)


def test_movie_map_holds_the_principal_components_of_the_model_factors(tiny_marts):
    """python_models/reporting/movie_map.py, checked against numpy on the same factors: on the
    fitted movies the scores are uncorrelated, their variances are the explained shares of the
    total factor variance, in decreasing order, and each axis points its most extreme movie up."""
    import numpy as np

    with duckdb.connect(str(tiny_marts), read_only=True) as con:
        scores = con.sql("""
            select movie_id, component, score, explained_variance_ratio, is_fitted
            from movie_map order by movie_id, component""").df()
        factors = (
            con.sql("""
            select movie_factors.movie_id, movie_factors.factors
            from movie_factors
            where movie_factors.model_name = (select any_value(model_name) from movie_map)
            order by movie_factors.movie_id""")
            .df()
            .set_index("movie_id")
        )
        ((model_name,),) = con.sql("select distinct model_name from movie_map").fetchall()
    assert len(scores) > 0, "the latent-space model of the tiny build has no factors"
    assert model_name == "biased_mf"  # var latent_space_model: taste factors, not the serving model's
    wide = scores.pivot(index="movie_id", columns="component", values="score")
    fitted = scores.groupby("movie_id")["is_fitted"].first()
    ratios = scores.groupby("component")["explained_variance_ratio"].first().to_numpy()

    matrix = np.stack(factors.loc[fitted.index, "factors"].to_numpy()).astype(float)
    centred = matrix[fitted.to_numpy()] - matrix[fitted.to_numpy()].mean(axis=0)
    total_variance = (centred**2).sum()
    on_fitted = wide[fitted].to_numpy()
    np.testing.assert_allclose((on_fitted**2).sum(axis=0) / total_variance, ratios, rtol=1e-4)
    assert np.all(np.diff(ratios) <= 1e-12) and ratios.sum() <= 1 + 1e-9
    covariance = np.cov(on_fitted, rowvar=False)
    off_diagonal = covariance - np.diag(np.diag(covariance))
    assert np.abs(off_diagonal).max() < 1e-4 * np.diag(covariance).max()
    assert (on_fitted[np.abs(on_fitted).argmax(axis=0), range(on_fitted.shape[1])] > 0).all()
    np.testing.assert_allclose(
        ratios, np.linalg.svd(centred, compute_uv=False)[: len(ratios)] ** 2 / total_variance, rtol=1e-4
    )
