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


def test_a_file_in_the_way_is_a_clear_error(tmp_path):
    folder = write_files(tmp_path / "in", NETFLIX)
    (tmp_path / "raw").write_text("not a folder")
    with pytest.raises(IngestError, match="is a file: give a folder"):
        ingest(folder, warehouse=tmp_path / "w.duckdb", reject_threshold=1.0, quiet=True, parquet=tmp_path / "raw")


def test_the_cli_default_folder_is_under_the_spark_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MOVIEREC_SPARK_DIR", str(tmp_path / "spark"))
    assert default_parquet_dir() == tmp_path / "spark" / "raw"
    folder = write_files(tmp_path / "in", NETFLIX)
    args = ["ingest", str(folder), "--warehouse", str(tmp_path / "w.duckdb"), "--max-reject-rate", "1", "--parquet"]
    assert cli(args) == 0
    assert len(_parquet(tmp_path / "spark" / "raw", "ratings")) == 3


def test_compare_rows_reports_the_first_difference():
    same = compare_rows("t", ["a", "x"], [(1, 0.5)], [(1, 0.5 + 1e-12)], rel_tol=1e-9, abs_tol=1e-9)
    assert same.ok
    exact = compare_rows("t", ["a", "x"], [(1, 0.5)], [(1, 0.5 + 1e-12)])
    assert exact.problems == ["t: sorted row 1, column x: 0.5 against 0.500000000001"]
    assert compare_rows("t", ["a"], [(1,), (2,)], [(1,)]).problems == ["t: 2 rows against 1"]
