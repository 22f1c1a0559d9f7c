"""Compare the tables of two builds: DuckDB against DuckDB, or DuckDB against Spark (issue 15).

Two uses:
- that a change leaves DuckDB's results unchanged: `python -m movierec.parity A.duckdb B.duckdb`
  compares every table of both warehouses' `main` and `raw` schemas, exactly by default
  (`--decimals 9` rounds floats to 9 decimals first);
- that the Spark target computes what DuckDB computes: `compare_with_parquet` reads a table that
  Spark wrote (a folder of Parquet files under the Spark warehouse) and compares it with the
  DuckDB table of the same name, counts exactly, floats within a relative tolerance.

Rows are compared as multisets: both sides are sorted on every column, then matched in order.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass
class TableDiff:
    """What differs in one table: a message per problem, empty when the tables match."""

    table: str
    rows_a: int
    rows_b: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def _sorted_rows(con: duckdb.DuckDBPyConnection, relation: str, columns: list[str]) -> list[tuple]:
    order = ", ".join(f'"{c}" nulls first' for c in columns)
    select = ", ".join(f'"{c}"' for c in columns)
    return con.execute(f"select {select} from {relation} order by {order}").fetchall()


def _close(a, b, rel_tol: float, abs_tol: float) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        if math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y, rel_tol, abs_tol) for x, y in zip(a, b))
    return a == b


def _round(value, decimals: int | None):
    if decimals is None:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return round(value, decimals)
    if isinstance(value, (list, tuple)):
        return type(value)(_round(v, decimals) for v in value)
    return value


def compare_rows(
    table: str,
    columns: list[str],
    rows_a: list[tuple],
    rows_b: list[tuple],
    rel_tol: float = 0.0,
    abs_tol: float = 0.0,
    decimals: int | None = None,
) -> TableDiff:
    """Compare two row lists sorted the same way; rel_tol = abs_tol = 0 asks for equality."""
    problems = []
    if len(rows_a) != len(rows_b):
        problems.append(f"{table}: {len(rows_a):,} rows against {len(rows_b):,}")
    else:
        for number, (a, b) in enumerate(zip(rows_a, rows_b)):
            a, b = _round(a, decimals), _round(b, decimals)
            for column, x, y in zip(columns, a, b):
                same = _close(x, y, rel_tol, abs_tol) if (rel_tol or abs_tol) else x == y
                if not same:
                    problems.append(f"{table}: sorted row {number + 1}, column {column}: {x!r} against {y!r}")
                    break
            if len(problems) >= 5:
                problems.append(f"{table}: ... (stopped at 5 differences)")
                break
    return TableDiff(table, len(rows_a), len(rows_b), problems)


def compare_warehouses(
    path_a: Path,
    path_b: Path,
    schemas: tuple[str, ...] = ("main", "raw"),
    decimals: int | None = None,
    ignore: tuple[str, ...] = (),
) -> list[TableDiff]:
    """Every table and view of `schemas` in both DuckDB files, exactly (or rounded to `decimals`),
    leaving out the columns named in `ignore` (wall-clock timings such as fit_seconds)."""
    cons = {"a": duckdb.connect(str(path_a), read_only=True), "b": duckdb.connect(str(path_b), read_only=True)}
    diffs = []
    try:
        for schema in schemas:
            names = {
                side: {
                    row[0]
                    for row in con.execute(
                        "select table_name from information_schema.tables where table_schema = ?", [schema]
                    ).fetchall()
                }
                for side, con in cons.items()
            }
            for name in sorted(names["a"] ^ names["b"]):
                where = "first" if name in names["a"] else "second"
                diffs.append(TableDiff(f"{schema}.{name}", 0, 0, [f"{schema}.{name}: only in the {where} warehouse"]))
            for name in sorted(names["a"] & names["b"]):
                relation = f'{schema}."{name}"'
                columns = {
                    side: [r[0] for r in con.execute(f"describe {relation}").fetchall()] for side, con in cons.items()
                }
                if columns["a"] != columns["b"]:
                    problem = f"{schema}.{name}: columns {columns['a']} against {columns['b']}"
                    diffs.append(TableDiff(f"{schema}.{name}", 0, 0, [problem]))
                    continue
                kept = [c for c in columns["a"] if c not in ignore]
                rows = {side: _sorted_rows(con, relation, kept) for side, con in cons.items()}
                diffs.append(compare_rows(f"{schema}.{name}", kept, rows["a"], rows["b"], decimals=decimals))
    finally:
        for con in cons.values():
            con.close()
    return diffs


def compare_with_parquet(
    warehouse: Path, table: str, parquet_folder: Path, rel_tol: float = 1e-9, abs_tol: float = 1e-9
) -> TableDiff:
    """DuckDB's main.<table> against the Parquet files Spark wrote for it, on DuckDB's columns."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns = [r[0] for r in con.execute(f'describe main."{table}"').fetchall()]
        files = sorted(str(p) for p in Path(parquet_folder).glob("*.parquet"))
        if not files:
            return TableDiff(table, 0, 0, [f"{table}: no Parquet files in {parquet_folder}"])
        spark_columns = [r[0] for r in con.execute("describe select * from read_parquet(?)", [files]).fetchall()]
        if sorted(columns) != sorted(spark_columns):
            return TableDiff(table, 0, 0, [f"{table}: columns {columns} against Spark's {spark_columns}"])
        rows_a = _sorted_rows(con, f'main."{table}"', columns)
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        rows_b = _sorted_rows(con, f"read_parquet([{listed}])", columns)
    finally:
        con.close()
    return compare_rows(table, columns, rows_a, rows_b, rel_tol=rel_tol, abs_tol=abs_tol)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m movierec.parity",
        description="Compare every table of two DuckDB warehouses (schemas main and raw); exit 1 on any difference.",
    )
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument(
        "--decimals", type=int, default=None, help="round floats to this many decimals (default: exact)"
    )
    parser.add_argument(
        "--ignore",
        default="",
        metavar="COLUMNS",
        help="comma-separated columns left out everywhere, e.g. fit_seconds (wall-clock timings differ run to run)",
    )
    args = parser.parse_args(argv)
    ignore = tuple(c.strip() for c in args.ignore.split(",") if c.strip())
    diffs = compare_warehouses(args.first, args.second, decimals=args.decimals, ignore=ignore)
    for diff in diffs:
        for problem in diff.problems:
            print(problem)
    bad = [d for d in diffs if not d.ok]
    how = "exactly" if args.decimals is None else f"to {args.decimals} decimals"
    if ignore:
        how += f" (without {', '.join(ignore)})"
    print(f"{len(diffs) - len(bad)} of {len(diffs)} tables equal {how}; {sum(d.rows_a for d in diffs):,} rows compared")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
