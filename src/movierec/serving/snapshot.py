"""The warehouse side of `Service`: what it read (a `_Snapshot`: serving config, catalog, models,
and in preload mode every user), the read-only connection per call, and the preload mode's
background reload when the file changes. `Service` (movierec.serving.service) answers from it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from movierec.serving.readers import (
    Catalog,
    ServingConfig,
    UserHistories,
    read_catalog,
    read_model_factors,
    read_user_factor_table,
    read_user_histories,
)
from movierec.serving.spark_tables import serving_warehouse, tables_version
from movierec.serving.types import WarehouseUnavailable
from movierec.warehouse import connect, warehouse_path


@dataclass
class _Snapshot:
    version: tuple
    loaded_at: float
    config: ServingConfig
    catalog: Catalog
    model_names: tuple[str, ...]
    models: dict = field(default_factory=dict)  # name -> ModelFactors
    users: dict = field(default_factory=dict)  # name -> UserFactorTable (preload only)
    similar_candidates: dict = field(default_factory=dict)  # name -> (movie -> catalog index, eligible mask)
    histories: UserHistories | None = None  # preload only


class _SnapshotSource:
    """Reads, caches and reloads the `_Snapshot` a `Service` answers from (see `Service` for the
    per-call and preload modes)."""

    def __init__(
        self,
        warehouse: str | os.PathLike | None = None,
        *,
        preload: bool = False,
        reload_interval: float = 1.0,
        settle_seconds: float = 5.0,
    ) -> None:
        # MOVIEREC_SERVE_FROM=spark: the views over the Spark target's tables (spark_tables)
        self.path = serving_warehouse(warehouse) or warehouse_path(warehouse)
        self.preload = preload
        self.reload_interval = float(reload_interval)
        self._snapshot: _Snapshot | None = None
        self._lock = threading.RLock()
        self._reload_thread: threading.Thread | None = None
        self.settle_seconds = float(settle_seconds)
        self._last_check = 0.0
        self._changed = (None, 0.0)  # (file version last seen different from the snapshot's, since when)
        self.last_reload_error: str | None = None

    def is_stale(self) -> bool:
        """True when the file has changed since the snapshot was read (a rebuild is running or done)."""
        snap = self._snapshot
        if snap is None:
            return False
        try:
            return _file_version(self.path) != snap.version
        except OSError:
            return True

    def refresh(self) -> None:
        """Reload now (synchronously) if the file changed; raises `WarehouseUnavailable` if it cannot."""
        if self.preload:
            snap = self._snapshot
            if snap is None or self.is_stale():
                self._swap(self._load_preloaded())
        else:
            with self._session():
                pass

    def close(self) -> None:
        """Drop the cached data (no connection is ever kept open between calls)."""
        with self._lock:
            self._snapshot = None

    def __enter__(self) -> _SnapshotSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[tuple[_Snapshot, duckdb.DuckDBPyConnection | None]]:
        """(snapshot, connection): a fresh read-only connection per call in per-call mode, none in preload
        mode (unless a model must be loaded lazily: see `_model`)."""
        if self.preload:
            yield self._current_preloaded(), None
            return
        with self._connection() as con:
            version = _file_version(self.path)
            with self._lock:
                snap = self._snapshot
                if snap is None or snap.version != version:
                    snap = self._snapshot = self._read_snapshot(con, version)
            yield snap, con

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        try:
            con = connect(self.path, read_only=True)
        except FileNotFoundError as exc:
            raise WarehouseUnavailable(str(exc)) from exc
        except duckdb.Error as exc:
            raise WarehouseUnavailable(_explain(exc, self.path)) from exc
        try:
            yield con
        except duckdb.CatalogException as exc:
            raise WarehouseUnavailable(
                f"the warehouse {self.path} lacks a serving table ({_first_line(exc)}): run `dbt build` first"
            ) from exc
        except duckdb.IOException as exc:
            raise WarehouseUnavailable(_explain(exc, self.path)) from exc
        finally:
            con.close()

    def _read_snapshot(self, con, version) -> _Snapshot:
        config = ServingConfig.read(con)
        catalog = read_catalog(con)
        names = tuple(
            r[0] for r in con.execute("select distinct model_name from movie_factors order by model_name").fetchall()
        )
        snap = _Snapshot(version=version, loaded_at=time.time(), config=config, catalog=catalog, model_names=names)
        if config.model_name is not None:
            snap.models[config.model_name] = read_model_factors(con, config.model_name)
        return snap

    def _load_preloaded(self) -> _Snapshot:
        with self._connection() as con:
            con.execute("begin transaction")  # one consistent view of every table
            version = _file_version(self.path)
            snap = self._read_snapshot(con, version)
            snap.histories = read_user_histories(con)
            # Every fitted model, not only the serving one: a `?model=` request must not need the file,
            # which a rebuild may hold for minutes. Costs the models' factor tables in memory.
            for name in snap.model_names:
                if name not in snap.models:
                    snap.models[name] = read_model_factors(con, name)
                snap.users[name] = read_user_factor_table(con, name)
            con.execute("commit")
            return snap

    def _swap(self, snap: _Snapshot) -> None:
        with self._lock:
            self._snapshot = snap
            self.last_reload_error = None

    def _current_preloaded(self) -> _Snapshot:
        snap = self._snapshot
        if snap is None:
            with self._lock:
                if self._snapshot is None:
                    self._last_check = time.monotonic()
                    self._snapshot = self._load_preloaded()  # raises WarehouseUnavailable when it cannot
                return self._snapshot
        now = time.monotonic()
        if now - self._last_check >= self.reload_interval:
            self._last_check = now
            try:
                version = _file_version(self.path)
            except OSError:  # removed (make clean): keep answering from memory
                version = snap.version
            if version == snap.version:
                self._changed = (None, now)
            elif version != self._changed[0]:
                self._changed = (version, now)  # still changing: wait for it to settle
            elif now - self._changed[1] >= self.settle_seconds and (
                self._reload_thread is None or not self._reload_thread.is_alive()
            ):
                self._reload_thread = threading.Thread(
                    target=self._background_reload, daemon=True, name="movierec-reload"
                )
                self._reload_thread.start()
        return snap

    def _background_reload(self) -> None:
        try:
            self._swap(self._load_preloaded())
        except Exception as exc:  # keep serving the previous snapshot; retried at the next check
            self.last_reload_error = f"{type(exc).__name__}: {_first_line(exc)}"


# --- helpers -----------------------------------------------------------------------------------


def _file_version(path: Path) -> tuple:
    """What changes when the warehouse is rewritten: the file's identity, size and time, and its WAL's.
    For the views over the Spark tables, which a Spark rebuild leaves as they are, also the tables'
    Parquet files (spark_tables.tables_version)."""
    st = os.stat(path)
    try:
        wal = os.stat(f"{path}.wal")
        wal_version = (wal.st_size, wal.st_mtime_ns)
    except FileNotFoundError:
        wal_version = None
    return (st.st_ino, st.st_size, st.st_mtime_ns, wal_version, tables_version(Path(path)))


def _explain(exc: Exception, path: Path) -> str:
    text = str(exc)
    if "lock" in text.lower():
        return (
            f"the warehouse {path} is locked by another process (a `dbt build` or `movierec ingest` "
            f"writing to it); retry when it has finished ({_first_line(exc)})"
        )
    if "different configuration" in text:
        return f"the warehouse {path} is open read-write in this process; close that connection first"
    return f"cannot open the warehouse {path}: {_first_line(exc)}"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
