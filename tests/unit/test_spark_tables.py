"""movierec.serving.spark_tables: the DuckDB views over the Spark target's Parquet table folders that
`--spark` / MOVIEREC_SERVE_FROM=spark serve from. Tiny Parquet folders written here in Spark's
layout (part files, factors as a variable-length float list, hyperparameters as text); the real
Spark build is served in tests/integration/test_spark_parity.py."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from movierec.serving.spark_tables import (
    REQUIRED,
    SparkTablesMissing,
    serve_from_spark,
    serving_warehouse,
    tables_version,
    write_spark_views,
)


def _spark_tables(folder: Path, skip: tuple[str, ...] = ()) -> Path:
    """A Spark directory whose tables/movierec.db holds one part file per serving table."""
    tables = folder / "tables" / "movierec.db"
    selects = {
        "movie_factors": "select 'mf' as model_name, 10 as movie_id, 0.5::double as bias, [1.0, 2.0]::float[] as factors",
        "user_factors": "select 'mf' as model_name, 1 as user_id, 0.1::double as bias, [0.5, 0.5]::float[] as factors",
        "model_runs": "select 'mf' as model_name, '{\"reg\": 0.05}' as hyperparameters, 3.5::double as global_mean",
        "serving_config": "select 'mf' as model_name, 2::bigint as factor_count",
        "dim_movies": "select 10 as movie_id, 'Alpha' as title",
        "popular_movies": "select 1::bigint as popularity_rank, 10 as movie_id",
        "serving_user_ratings": "select 1 as user_id, 10 as movie_id, 4.0::double as rating",
    }
    with duckdb.connect() as con:
        for table, sql in selects.items():
            if table in skip:
                continue
            (tables / table).mkdir(parents=True)
            con.execute(f"copy ({sql}) to '{tables / table / 'part-00000-abc.snappy.parquet'}' (format parquet)")
    return folder


def test_views_cast_spark_types_back_to_the_readers(tmp_path):
    folder = _spark_tables(tmp_path / "spark")
    views = write_spark_views(folder)
    assert views == folder / "serving.duckdb"
    with duckdb.connect(str(views), read_only=True) as con:
        types = {name: kind for name, kind, *_ in con.execute("describe movie_factors").fetchall()}
        assert types["factors"] == "FLOAT[2]"
        assert dict((r[0], r[1]) for r in con.execute("describe model_runs").fetchall())["hyperparameters"] == "JSON"
        assert con.execute("select factors from user_factors").fetchone()[0] == (0.5, 0.5)
        tables = {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
    assert tables == set(REQUIRED)


def test_views_read_the_folders_at_query_time(tmp_path):
    """A Spark rebuild replaces the part files: the next connection sees the new rows."""
    folder = _spark_tables(tmp_path / "spark")
    views = write_spark_views(folder)
    part = folder / "tables" / "movierec.db" / "dim_movies"
    for old in part.glob("*.parquet"):
        old.unlink()
    with duckdb.connect() as con:
        con.execute(
            f"copy (select 20 as movie_id, 'Beta' as title) to '{part / 'part-00001-def.parquet'}' (format parquet)"
        )
    with duckdb.connect(str(views), read_only=True) as con:
        assert con.execute("select movie_id, title from dim_movies").fetchall() == [(20, "Beta")]


def test_a_service_sees_a_spark_rebuild_as_a_new_version_of_its_warehouse(tmp_path):
    """The views file stays as it is when Spark rewrites the tables: the version a `Service`
    compares with its snapshot's includes the tables' files, so it reloads instead of mixing."""
    from movierec.serving.snapshot import _file_version

    folder = _spark_tables(tmp_path / "spark")
    views = write_spark_views(folder)
    before = _file_version(views)
    assert before == _file_version(views)
    part = folder / "tables" / "movierec.db" / "user_factors"
    for old in part.glob("*.parquet"):
        old.unlink()
    with duckdb.connect() as con:
        con.execute(
            "copy (select 'mf' as model_name, 1 as user_id, 0.2::double as bias, [0.1, 0.9]::float[] as factors) "
            f"to '{part / 'part-00001-new.parquet'}' (format parquet)"
        )
    assert _file_version(views) != before
    assert _file_version(tmp_path / "spark" / "serving.duckdb")[-1] is not None
    assert tables_version(tmp_path / "other.duckdb") is None  # a DuckDB warehouse: its file alone


def test_missing_serving_tables_are_named_with_the_folder(tmp_path):
    folder = _spark_tables(tmp_path / "spark", skip=("user_factors", "movie_factors"))
    with pytest.raises(SparkTablesMissing, match=r"movierec\.db: no Spark table movie_factors, user_factors"):
        write_spark_views(folder)
    with pytest.raises(SparkTablesMissing, match="no Spark table"):
        write_spark_views(tmp_path / "nothing-here")


def test_the_switch(tmp_path, monkeypatch):
    folder = _spark_tables(tmp_path / "spark")
    monkeypatch.setenv("MOVIEREC_SPARK_DIR", str(folder))
    monkeypatch.delenv("MOVIEREC_SERVE_FROM", raising=False)
    assert not serve_from_spark() and serving_warehouse() is None
    monkeypatch.setenv("MOVIEREC_SERVE_FROM", "spark")
    assert serving_warehouse() == folder / "serving.duckdb"
    assert serving_warehouse(tmp_path / "explicit.duckdb") is None  # an explicit warehouse wins
    monkeypatch.setenv("MOVIEREC_SERVE_FROM", "sparkle")
    with pytest.raises(ValueError, match="MOVIEREC_SERVE_FROM='sparkle': expected spark or duckdb"):
        serve_from_spark()


def test_the_library_functions_follow_the_switch(tmp_path, monkeypatch):
    """movierec.serving.recommend & co. (the shared default service) read the Spark tables too."""
    import movierec.serving as serving

    folder = _spark_tables(tmp_path / "spark")
    monkeypatch.setenv("MOVIEREC_SPARK_DIR", str(folder))
    monkeypatch.setenv("MOVIEREC_SERVE_FROM", "spark")
    monkeypatch.setattr(serving, "_default", {})
    assert serving.default_service().path == folder / "serving.duckdb"
    monkeypatch.setenv("MOVIEREC_SERVE_FROM", "duckdb")
    monkeypatch.setenv("MOVIEREC_WAREHOUSE", str(tmp_path / "w.duckdb"))
    assert serving.default_service().path == tmp_path / "w.duckdb"


def test_a_url_spark_dir_is_refused_as_a_serving_error(tmp_path, monkeypatch):
    from movierec.serving.types import WarehouseUnavailable

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MOVIEREC_SPARK_DIR", "s3a://bucket/movierec")
    with pytest.raises(WarehouseUnavailable, match="s3a://bucket/movierec is a URL"):
        write_spark_views()
    assert not (tmp_path / "s3a:").exists()
