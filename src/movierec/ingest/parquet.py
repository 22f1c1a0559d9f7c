"""The Parquet sink of ingestion: the raw tables as Parquet files, for the Spark target (issue 15).

Ingestion parses, rejects, deduplicates and counts exactly once, into the warehouse's `raw`
schema (`movierec.ingest.common.Ingestion`); with `movierec ingest --parquet` it then writes
every raw table to `<folder>/<table>/part-0.parquet`. The Spark target of the dbt project
(profiles.yml `spark`) declares those folders as the `ingest` source's tables
(macros/spark.sql), so both engines read the same rows. The folder is replaced as a whole,
and only after the warehouse was: a failed run leaves the previous Parquet files in place.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from movierec.ingest.common import RAW_TABLES, IngestError

SPARK_DIR_ENV = "MOVIEREC_SPARK_DIR"
DEFAULT_SPARK_DIR = Path("warehouse") / "spark"


def spark_dir() -> Path:
    """Where the Spark target keeps its files: `$MOVIEREC_SPARK_DIR`, else warehouse/spark."""
    return Path(os.environ.get(SPARK_DIR_ENV) or DEFAULT_SPARK_DIR)


def default_parquet_dir() -> Path:
    """The folder the Spark target reads the raw tables from: <spark dir>/raw. Refused when
    $MOVIEREC_SPARK_DIR is a URL (a Path would turn `s3a://b` into a local folder `s3a:/b`)."""
    raw = os.environ.get(SPARK_DIR_ENV, "")
    if "://" in raw:
        raise IngestError(
            f"{SPARK_DIR_ENV}={raw} is a URL: give --parquet a local folder, then copy it there "
            "(the Spark target reads the URL)"
        )
    return spark_dir() / "raw"


def check_parquet_dir(folder: Path | str) -> Path:
    """The --parquet folder as a local Path, refused before anything is loaded when it cannot be
    one: a file, or a URL (write locally, then copy the folder to object storage)."""
    if "://" in str(folder):
        raise IngestError(
            f"--parquet {folder}: a URL; write the Parquet files to a local folder and copy it there "
            f"(the Spark target reads {SPARK_DIR_ENV} as a URL)"
        )
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise IngestError(f"--parquet {folder} is a file: give a folder")
    return folder


def write_raw_parquet(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    """Write every raw table of `con` to `folder/<table>/part-0.parquet`; returns the row counts.

    The files are written beside `folder` first and swapped in at the end, so readers never
    see half of a new set; if anything fails, the previous folder is left (or put back) as it
    was. Raises IngestError when the folder cannot be written."""
    folder = check_parquet_dir(folder)
    staging = folder.with_name(folder.name + ".writing")
    previous = folder.with_name(folder.name + ".previous")
    counts = {}
    try:
        shutil.rmtree(staging, ignore_errors=True)
        for table in RAW_TABLES:
            (staging / table).mkdir(parents=True)
            target = staging / table / "part-0.parquet"
            con.execute(f"copy raw.{table} to '{target.as_posix()}' (format parquet, compression zstd)")
            counts[table] = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
        shutil.rmtree(previous, ignore_errors=True)
        if folder.exists():
            folder.rename(previous)
        staging.rename(folder)
        shutil.rmtree(previous, ignore_errors=True)
    except (OSError, duckdb.Error) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if previous.exists() and not folder.exists():  # failed between the two renames: put it back
            previous.rename(folder)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise IngestError(
            f"the warehouse was loaded, but the Parquet copy in {folder} could not be written: {reason}"
        ) from None
    return counts
