"""Serving what Spark built (issue 15): a small DuckDB file of views over the Spark target's tables.

The API, CLI and HTTP server read a DuckDB warehouse. On the Spark target the same tables are
Parquet folders of part files, `$MOVIEREC_SPARK_DIR/tables/movierec.db/<table>/`. This module
writes `$MOVIEREC_SPARK_DIR/serving.duckdb`, which holds no data: one view per table folder,
`select ... from read_parquet('<folder>/*.parquet')`, with Spark's types cast back to what the
readers expect (the factor arrays `array<float>` to DuckDB's FLOAT[k], the hyperparameters'
text to JSON). Every reader (movierec.serving, `movierec recommend`/`similar`/`serve`, the SQL
shell) then opens it like the DuckDB warehouse.

One switch chooses it: `MOVIEREC_SERVE_FROM=spark` in the environment (every `Service` without
an explicit warehouse then reads the Spark tables), or `--spark` on `movierec recommend`,
`similar` and `serve`. The views read the folders at query time, and a `Service` counts the
tables' Parquet files in its warehouse's version (`tables_version`), so after a Spark rebuild it
reloads its snapshot as after a DuckDB one, never mixing old and new tables; the file itself is
rewritten whenever a service is created. DuckDB's
Parquet reader is built into the Python wheel: nothing is downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from movierec.ingest.parquet import spark_dir
from movierec.serving.types import InvalidRequest, WarehouseUnavailable

SERVE_FROM = "MOVIEREC_SERVE_FROM"
SCHEMA = "movierec"
VIEW_FILE = "serving.duckdb"
# What the readers need before they can answer (movierec.serving.readers, snapshot)
REQUIRED = ("serving_config", "movie_factors", "user_factors", "model_runs", "dim_movies", "popular_movies",
            "serving_user_ratings")  # fmt: skip


class SparkTablesMissing(WarehouseUnavailable, FileNotFoundError):
    """The Spark target's tables are not there (or not the serving ones): build them first."""


def spark_tables_folder(folder: str | os.PathLike | None = None) -> Path:
    """The Spark warehouse's folder of `movierec` tables: <MOVIEREC_SPARK_DIR>/tables/movierec.db."""
    return Path(folder or spark_dir()) / "tables" / f"{SCHEMA}.db"


def serve_from_spark() -> bool:
    """True when MOVIEREC_SERVE_FROM says `spark` (anything else but empty or `duckdb` is refused)."""
    value = os.environ.get(SERVE_FROM, "").strip().lower()
    if value in ("", "duckdb"):
        return False
    if value == "spark":
        return True
    raise InvalidRequest(f"{SERVE_FROM}={os.environ[SERVE_FROM]!r}: expected spark or duckdb")


def write_spark_views(folder: str | os.PathLike | None = None, out: str | os.PathLike | None = None) -> Path:
    """Write (replace) the DuckDB file of views over the Spark tables and return its path.

    `folder` is the Spark directory (default $MOVIEREC_SPARK_DIR, else warehouse/spark); `out`
    the file (default <folder>/serving.duckdb). Raises SparkTablesMissing, naming the folder and
    the tables, when the serving tables have not been built on Spark."""
    raw = str(folder or os.environ.get("MOVIEREC_SPARK_DIR", ""))
    if "://" in raw:  # checked on the string: a Path would turn `s3a://b` into the local folder `s3a:/b`
        raise WarehouseUnavailable(
            f"the Spark directory {raw} is a URL: serving reads a local copy of the table folders"
        )
    base = Path(folder or spark_dir())
    tables_dir = spark_tables_folder(base).resolve()
    tables = sorted(p.name for p in tables_dir.iterdir() if p.is_dir() and any(p.glob("*.parquet"))) if tables_dir.is_dir() else []  # fmt: skip
    missing = [name for name in REQUIRED if name not in tables]
    if missing:
        raise SparkTablesMissing(
            f"{tables_dir}: no Spark table {', '.join(missing)}: build them with `make spark-demo` "
            "(dbt build --target spark, movierec fit-spark, then the serving marts)"
        )
    target = Path(out or base / VIEW_FILE)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    scratch.unlink(missing_ok=True)
    con = duckdb.connect(str(scratch))
    try:
        n_factors = _factor_count(con, tables_dir, tables)
        for table in tables:
            source = f"read_parquet('{_quoted(tables_dir / table)}/*.parquet')"
            columns = con.execute(f"describe select * from {source}").fetchall()
            select = ", ".join(_column(name, kind, n_factors) for name, kind, *_ in columns)
            con.execute(f'create view main."{table}" as select {select} from {source}')
    finally:
        con.close()
    os.replace(scratch, target)
    Path(f"{scratch}.wal").unlink(missing_ok=True)
    return target


def serving_warehouse(warehouse: str | os.PathLike | None = None) -> Path | None:
    """The file a `Service` reads when no warehouse was given: the Spark views file when
    MOVIEREC_SERVE_FROM=spark (written now), else None (the DuckDB warehouse as always)."""
    if warehouse is not None or not serve_from_spark():
        return None
    return write_spark_views()


def tables_version(views_file: Path) -> tuple | None:
    """What changes when Spark rewrites the tables behind a views file: each Parquet file's name,
    size and time (None for any other warehouse). A `Service` compares it with its snapshot's, so
    a Spark rebuild is reloaded like a DuckDB one, never mixed with the previous tables."""
    if views_file.name != VIEW_FILE:
        return None
    folder = spark_tables_folder(views_file.parent)
    files = []
    for part in folder.glob("*/*.parquet"):
        try:
            st = part.stat()
        except FileNotFoundError:  # removed while listing: a rewrite under way, seen on the next look
            continue
        files.append((part.parent.name, part.name, st.st_size, st.st_mtime_ns))
    return tuple(sorted(files))


def _factor_count(con, tables_dir: Path, tables: list[str]) -> int | None:
    """k, the length of the factor arrays (the longest in movie_factors), or None without any."""
    source = f"read_parquet('{_quoted(tables_dir / 'movie_factors')}/*.parquet')"
    k = con.execute(f"select max(len(factors)) from {source}").fetchone()[0]
    return int(k) if k else None


def _column(name: str, kind: str, n_factors: int | None) -> str:
    quoted = f'"{name}"'
    if kind.startswith("FLOAT[]") and n_factors:
        return f"cast({quoted} as float[{n_factors}]) as {quoted}"
    if name == "hyperparameters" and kind == "VARCHAR":
        return f"cast({quoted} as json) as {quoted}"
    return quoted


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
