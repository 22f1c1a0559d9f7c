"""Ingestion's Parquet sink (`movierec ingest --parquet`, the Spark target's source): the same
parse, rejects and counts as the warehouse, every raw table as one Parquet folder."""

from __future__ import annotations

import duckdb
import pytest

from movierec.cli import main as cli
from movierec.ingest import IngestError, ingest
from movierec.ingest.common import RAW_TABLES
from movierec.ingest.parquet import default_parquet_dir
from movierec.parity import compare_rows
from tests.conftest import query, write_files

NETFLIX = {
    "combined_data_1.txt": (
        "1:\n"
        "777001,3,2005-01-01\n"
        "777011,3,\n"  # 3: empty date, a reject
        "777030,4,2005-01-02\n"
        "2:\n"
        "777001,5,2005-02-01\n"
    ),
    "movie_titles.csv": "1,2001,First\n2,NULL,Second\n",
    "probe.txt": "1:\n777030\n",
}


def _parquet(folder, table: str) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(f"select * from read_parquet('{folder / table}/*.parquet') order by all").fetchall()


def test_every_raw_table_is_written_with_the_warehouse_rows(tmp_path):
    folder = write_files(tmp_path / "in", NETFLIX)
    warehouse = tmp_path / "w.duckdb"
    ingest(folder, warehouse=warehouse, reject_threshold=1.0, quiet=True, parquet=tmp_path / "raw")
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == sorted(RAW_TABLES)
    for table in RAW_TABLES:
        assert _parquet(tmp_path / "raw", table) == query(warehouse, f"select * from raw.{table} order by all"), table
    assert [row[:3] for row in _parquet(tmp_path / "raw", "ratings")] == [
        (1, 777001, 3.0),
        (1, 777030, 4.0),
        (2, 777001, 5.0),
    ]
    assert [(row[1], row[3]) for row in _parquet(tmp_path / "raw", "rejects")] == [(3, "empty date field")]
    files = query(warehouse, "select lines, headers, loaded, rejected from raw.files where kind = 'ratings'")
    assert files == [(6, 2, 3, 1)]


def test_a_failed_run_leaves_the_previous_parquet_files(tmp_path):
    good = write_files(tmp_path / "good", NETFLIX)
    ingest(good, warehouse=tmp_path / "w.duckdb", reject_threshold=1.0, quiet=True, parquet=tmp_path / "raw")
    before = _parquet(tmp_path / "raw", "ratings")
    bad = write_files(tmp_path / "bad", {"combined_data_1.txt": "1:\nnot,a,rating\n"})
    with pytest.raises(IngestError, match="combined_data_1.txt"):
        ingest(bad, warehouse=tmp_path / "w.duckdb", quiet=True, parquet=tmp_path / "raw")
    assert _parquet(tmp_path / "raw", "ratings") == before
    assert not (tmp_path / "raw.writing").exists()


@pytest.mark.parametrize("fail_at", ["copy", "swap"])
def test_a_failed_copy_keeps_the_previous_files_and_the_new_warehouse(tmp_path, monkeypatch, fail_at):
    good = write_files(tmp_path / "good", NETFLIX)
    ingest(good, warehouse=tmp_path / "old.duckdb", reject_threshold=1.0, quiet=True, parquet=tmp_path / "raw")
    before = {table: _parquet(tmp_path / "raw", table) for table in RAW_TABLES}
    if fail_at == "copy":  # the second table's COPY fails (a full disk, say): a DuckDB error
        real_execute = duckdb.DuckDBPyConnection.execute
        copies = []

        class Connection:
            def __init__(self, con):
                self._con = con

            def execute(self, sql, *args):
                if sql.startswith("copy raw."):
                    copies.append(sql)
                    if len(copies) == 2:
                        raise duckdb.IOException("IO Error: No space left on device")
                return real_execute(self._con, sql, *args)

        from movierec.ingest import parquet as sink

        real_write = sink.write_raw_parquet
        monkeypatch.setattr(
            "movierec.ingest.write_raw_parquet", lambda con, folder: real_write(Connection(con), folder)
        )
    else:  # the new folder cannot be renamed into place after the old one was moved aside
        from pathlib import Path

        real_rename = Path.rename

        def rename(self, target):
            if self.name == "raw.writing":
                raise PermissionError(13, "Permission denied", str(self))
            return real_rename(self, target)

        monkeypatch.setattr(Path, "rename", rename)
    warehouse = tmp_path / "new.duckdb"
    with pytest.raises(IngestError, match="the warehouse was loaded, but the Parquet copy"):
        ingest(good, warehouse=warehouse, reject_threshold=1.0, quiet=True, parquet=tmp_path / "raw")
    assert query(warehouse, "select count(*) from raw.ratings") == [(3,)]  # the new warehouse is kept
    assert {table: _parquet(tmp_path / "raw", table) for table in RAW_TABLES} == before
    assert not (tmp_path / "raw.writing").exists() and not (tmp_path / "raw.previous").exists()


def test_a_file_in_the_way_is_a_clear_error_before_anything_is_loaded(tmp_path):
    folder = write_files(tmp_path / "in", NETFLIX)
    (tmp_path / "raw").write_text("not a folder")
    with pytest.raises(IngestError, match="is a file: give a folder"):
        ingest(folder, warehouse=tmp_path / "w.duckdb", reject_threshold=1.0, quiet=True, parquet=tmp_path / "raw")
    assert not (tmp_path / "w.duckdb").exists()


def test_a_url_is_refused_before_anything_is_loaded(tmp_path):
    folder = write_files(tmp_path / "in", NETFLIX)
    with pytest.raises(IngestError, match="a URL; write the Parquet files to a local folder"):
        ingest(folder, warehouse=tmp_path / "w.duckdb", reject_threshold=1.0, quiet=True, parquet="s3a://bucket/raw")
    assert not (tmp_path / "w.duckdb").exists()


def test_the_cli_default_folder_is_under_the_spark_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MOVIEREC_SPARK_DIR", str(tmp_path / "spark"))
    assert default_parquet_dir() == tmp_path / "spark" / "raw"
    folder = write_files(tmp_path / "in", NETFLIX)
    args = ["ingest", str(folder), "--warehouse", str(tmp_path / "w.duckdb"), "--max-reject-rate", "1", "--parquet"]
    assert cli(args) == 0
    assert len(_parquet(tmp_path / "spark" / "raw", "ratings")) == 3


def test_a_url_spark_dir_is_refused_for_the_default_folder_and_nothing_is_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MOVIEREC_SPARK_DIR", "s3a://bucket/movierec")
    with pytest.raises(IngestError, match="MOVIEREC_SPARK_DIR=s3a://bucket/movierec is a URL"):
        default_parquet_dir()
    folder = write_files(tmp_path / "in", NETFLIX)
    args = ["ingest", str(folder), "--warehouse", str(tmp_path / "w.duckdb"), "--max-reject-rate", "1", "--parquet"]
    assert cli(args) == 1
    assert "is a URL" in capsys.readouterr().err
    assert not (tmp_path / "s3a:").exists() and not (tmp_path / "w.duckdb").exists()


def test_compare_rows_reports_the_first_difference():
    same = compare_rows("t", ["a", "x"], [(1, 0.5)], [(1, 0.5 + 1e-12)], rel_tol=1e-9, abs_tol=1e-9)
    assert same.ok
    exact = compare_rows("t", ["a", "x"], [(1, 0.5)], [(1, 0.5 + 1e-12)])
    assert exact.problems == ["t: sorted row 1, column x: 0.5 against 0.500000000001"]
    assert compare_rows("t", ["a"], [(1,), (2,)], [(1,)]).problems == ["t: 2 rows against 1"]


def test_the_spark_hook_declares_every_raw_table():
    import re

    from tests.conftest import PROJECT_ROOT

    hook = (PROJECT_ROOT / "macros" / "spark.sql").read_text()
    listed = re.search(r"for table in \[([^\]]*)\]", hook).group(1)
    assert sorted(re.findall(r"'(\w+)'", listed)) == sorted(RAW_TABLES)


def test_fit_spark_refuses_a_url_for_its_local_metastore(monkeypatch, capsys):
    from movierec.spark_fit import main as fit_spark_main

    monkeypatch.setenv("MOVIEREC_SPARK_DIR", "s3a://bucket/movierec")
    assert fit_spark_main() == 2  # before any SparkSession starts
    assert "is a URL: fit-spark keeps its tables and its Derby metastore in a local folder" in capsys.readouterr().err
