"""What every parser shares: the raw schema, the per-file counts, rejects, duplicates, and the loader.

Parsers read files and hand Arrow tables to an `Ingestion`, which appends them to loading
tables (`raw.<table>__loading`) and, when every check passes, swaps them in for the raw tables
in one short transaction: a failed run leaves the previous warehouse untouched, a successful
one replaces every raw table, so re-running on the same input gives the same warehouse.

Nothing is dropped silently. For every file the counts satisfy

    lines = headers + blank + loaded + rejected + duplicates

where `headers` are movie headers (`123:`) or CSV column headers, `rejected` lines are kept in
`raw.rejects` with file, line number, text and reason, and `duplicates` are ratings superseded
by another rating of the same user and movie (`raw.duplicates`, rule below).

Duplicate rule: when a user rated a movie more than once, the rating with the latest date
wins; on equal dates, the one read last (later file, then later line) wins, as a correction
of the earlier one.

Date rule: a rating's date must fall in the window of its format (`DATE_WINDOWS`), else the
line is rejected. The window is written to `raw.dataset` (`date_window_start`,
`date_window_end`), and dbt's test on `fct_ratings.rated_on` reads it from there: ingestion and
the warehouse tests check the one rule. Files without dates (the generic format with no `date`
column) load with `rated_on` null and `raw.dataset.has_dates` false.

The reject limit (`--max-reject-rate`, per kind of file) is checked after every chunk, and every
`CHECK_EVERY` lines of a chunk parsed line by line, against the most records the run could still
read, so a file in the wrong layout fails within its first lines instead of at the end, and a
run that would pass is never stopped early.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from movierec.progress import Progress as Reporter

DUPLICATE_RULE = (
    "a user's repeated rating of a movie: the latest date wins; on equal dates the one read last "
    "(later file, then later line) wins"
)

# Oldest and newest allowed rating date per format; None = the day of the ingestion.
# Netflix Prize ratings run 1999-11-11..2005-12-31 (the window leaves a margin on both sides);
# MovieLens began rating in 1995 (ml-20m's first rating is 1995-01-09); a generic file may hold
# anything since the Unix epoch.
DATE_WINDOWS: dict[str, tuple[dt.date, dt.date | None]] = {
    "netflix": (dt.date(1998, 1, 1), dt.date(2006, 12, 31)),
    "movielens": (dt.date(1995, 1, 1), None),
    "csv": (dt.date(1970, 1, 1), None),
}


def date_window(fmt: str, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The inclusive (first, last) rating date allowed for `fmt` (netflix, movielens or csv)."""
    first, last = DATE_WINDOWS[fmt]
    return first, last or today or dt.date.today()


def date_window_reason(value: dt.date, fmt: str) -> str | None:
    """Why `value` is not an allowed rating date for `fmt`, or None if it is."""
    first, last = date_window(fmt)
    if first <= value <= last:
        return None
    return f"date {value.isoformat()} is outside the {fmt} window {first.isoformat()}..{last.isoformat()}"


RATINGS_SCHEMA = pa.schema(
    [
        ("movie_id", pa.int32()),
        ("user_id", pa.int32()),
        ("rating", pa.float32()),
        ("rated_on", pa.date32()),
        ("rated_at", pa.timestamp("s")),
        ("file_id", pa.int16()),
        ("line", pa.int32()),
    ]
)
MOVIES_SCHEMA = pa.schema(
    [
        ("movie_id", pa.int32()),
        ("title", pa.string()),
        ("release_year", pa.int16()),
        ("genres", pa.string()),
    ]
)
PAIRS_SCHEMA = pa.schema([("movie_id", pa.int32()), ("user_id", pa.int32())])
QUALIFYING_SCHEMA = pa.schema([("movie_id", pa.int32()), ("user_id", pa.int32()), ("rated_on", pa.date32())])
SPLITS_SCHEMA = pa.schema(
    [("split", pa.string()), ("part", pa.string()), ("user_id", pa.int32()), ("movie_id", pa.int32())]
)

RAW_TABLES = (
    "ratings",
    "movies",
    "probe",
    "qualifying",
    "splits",
    "rejects",
    "duplicates",
    "files",
    "dataset",
    "movie_genres",
)

# Created as raw.<table>__loading, renamed to raw.<table> when the run succeeds.
RAW_DDL = """
create table raw.ratings__loading (
    movie_id integer not null, user_id integer not null, rating float not null,
    rated_on date, rated_at timestamp, file_id smallint not null, line integer not null
);
create table raw.movies__loading (movie_id integer not null, title varchar, release_year smallint, genres varchar);
create table raw.movie_genres__loading (movie_id integer not null, genre varchar not null);
create table raw.probe__loading (movie_id integer not null, user_id integer not null);
create table raw.qualifying__loading (movie_id integer not null, user_id integer not null, rated_on date);
create table raw.splits__loading (split varchar not null, part varchar not null, user_id integer not null, movie_id integer not null);
create table raw.rejects__loading (file varchar not null, line bigint not null, raw_text varchar, reason varchar not null);
create table raw.duplicates__loading (
    file varchar not null, line integer not null, movie_id integer, user_id integer,
    rating float, rated_on date, rated_at timestamp
);
create table raw.files__loading (
    file_id smallint not null, file varchar not null, kind varchar not null, bytes bigint,
    lines bigint, headers bigint, blank bigint, loaded bigint, rejected bigint, duplicates bigint
);
create table raw.dataset__loading (
    format varchar, variant varchar, source_dir varchar, rating_min float, rating_max float,
    duplicate_rule varchar, ratings bigint, users bigint, movies bigint,
    has_dates boolean, date_window_start date, date_window_end date
);
"""


class IngestError(Exception):
    """A problem the user must fix: the message names the file, the line and what is wrong."""


def check_input_file(path: Path, what: str = "file") -> None:
    """IngestError unless `path` is a regular file this process can open for reading."""
    if path.is_symlink() and not path.exists():
        raise IngestError(
            f"{what} {path} is a broken symbolic link (it points to {os.readlink(path)}, which does not exist)"
        )
    if not path.exists():
        raise IngestError(f"{what} {path} does not exist")
    if path.is_dir():
        raise IngestError(f"{what} {path} is a folder, not a file")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise IngestError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


@dataclass
class FileCounts:
    """What was read from one file and what became of it."""

    file_id: int
    file: str
    kind: str
    bytes: int = 0
    lines: int = 0
    headers: int = 0
    blank: int = 0
    loaded: int = 0
    rejected: int = 0
    duplicates: int = 0

    @property
    def accounted(self) -> int:
        return self.headers + self.blank + self.loaded + self.rejected + self.duplicates


class Progress(Reporter):
    """Ingestion's progress through the one reporter (`movierec.progress`): MB read of the input
    and records parsed, with their rates. On a terminal the line is redrawn in place; elsewhere
    (CI logs) a line is printed every `interval` seconds. Quiet for inputs under `min_bytes`."""

    def __init__(
        self,
        total_bytes: int,
        label: str = "ingest",
        enabled: bool = True,
        interval: float = 5.0,
        min_bytes: int = 64 << 20,
    ) -> None:
        enabled = enabled and total_bytes >= min_bytes
        super().__init__(label, total_bytes, "MB", enabled=enabled, every=interval, scale=1e6, live=True)
        self.records = 0

    @property
    def total_bytes(self) -> int:
        return self.total

    @property
    def done_bytes(self) -> int:
        return self.done_count

    def advance(self, nbytes: int, records: int) -> None:
        self.done_count += nbytes
        self.records += records
        if self.done_count < self.total:  # the final line is close()'s
            self.update(self.done_count, counts={"records": self.records})

    def close(self) -> None:
        self.done(counts={"records": self.records})


def split_duplicates(table: pa.Table) -> tuple[pa.Table, pa.Table | None]:
    """Apply the duplicate rule within one batch of ratings.

    Returns the ratings to keep (in their original order) and the superseded ones (or None).
    """
    movie = table.column("movie_id").to_numpy()
    user = table.column("user_id").to_numpy()
    key = (movie.astype(np.int64) << 32) | user.astype(np.int64)
    involved = pd.Series(key).duplicated(keep=False).to_numpy()
    if not involved.any():
        return table, None
    idx = np.flatnonzero(involved)
    rated_on = table.column("rated_on").cast(pa.int32()).to_numpy()[idx]
    rated_at = table.column("rated_at").cast(pa.int64()).fill_null(np.iinfo(np.int64).min).to_numpy()[idx]
    file_id = table.column("file_id").to_numpy()[idx]
    line = table.column("line").to_numpy()[idx]
    # Within each key the winner sorts last: latest date, then latest time, file, line.
    order = np.lexsort((line, file_id, rated_at, rated_on, key[idx]))
    sorted_keys = key[idx][order]
    is_last = np.ones(len(order), dtype=bool)
    is_last[:-1] = sorted_keys[:-1] != sorted_keys[1:]
    drop = np.zeros(len(key), dtype=bool)
    drop[idx[order[~is_last]]] = True
    return table.filter(pa.array(~drop)), table.filter(pa.array(drop))


class Ingestion:
    """Collects parsed tables into loading tables and swaps them in for the `raw` tables on success."""

    BATCH_ROWS = 4_000_000

    def __init__(self, con: duckdb.DuckDBPyConnection, root: Path, reject_threshold: float, progress: Progress):
        self.con = con
        self.root = root
        self.reject_threshold = reject_threshold
        self.progress = progress
        self.files: list[FileCounts] = []
        self._pending: dict[str, list[pa.Table]] = {}
        self._pending_rows: dict[str, int] = {}
        self._rejects: list[tuple[str, int, str, str]] = []
        self._resolve_movies: set[int] = set()
        self._resolve_all = False

    # --- set-up -------------------------------------------------------------------------------

    def begin(self) -> None:
        """Create empty loading tables. Rows are appended to them outside any long transaction
        (holding 100M appended rows in one transaction costs gigabytes of memory); the previous
        raw tables stay untouched until `finish` swaps the new ones in."""
        self.con.execute("create schema if not exists raw")
        self._drop_loading_tables()
        self.con.execute(RAW_DDL)

    def _drop_loading_tables(self) -> None:
        for table in RAW_TABLES:
            self.con.execute(f"drop table if exists raw.{table}__loading")

    def file(self, path: Path, kind: str) -> FileCounts:
        """Register a file about to be read; its counts are filled in by the parser."""
        try:
            name = str(path.relative_to(self.root))
        except ValueError:
            name = str(path)
        counts = FileCounts(file_id=len(self.files) + 1, file=name, kind=kind)
        self.files.append(counts)
        return counts

    # --- records ------------------------------------------------------------------------------

    def reject(self, counts: FileCounts, line: int, raw: bytes | str, reason: str) -> None:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        counts.rejected += 1
        self._rejects.append((counts.file, line, text.rstrip("\r\n")[:1000], reason))
        if len(self._rejects) >= 100_000:
            self._flush_rejects()

    def check_reject_limit(self, counts: FileCounts | None = None, pending: int = 0) -> None:
        """Stop as soon as some kind of file is over the reject limit whatever the rest holds.

        `pending`: good records of `counts`' file parsed but not yet added (mid-chunk checks).
        The records still to come are bounded by the bytes not yet read (a record takes at least
        two bytes, a character and a newline), so a run stopped here would have failed at the end.
        """
        remaining = max(self.progress.total_bytes - self.progress.done_bytes, 0) // 2
        by_kind = self._records_by_kind()
        if counts is not None and pending:  # good records of the chunk being parsed, not yet added
            rejected, records = by_kind[counts.kind]
            by_kind[counts.kind] = (rejected, records + pending)
        over = [
            kind
            for kind, (rejected, records) in by_kind.items()
            if rejected > self.reject_threshold * max(records + remaining, 1)
        ]
        if over:
            self._flush_rejects()
            raise IngestError(self._threshold_message(over, partial=remaining > 0, by_kind=by_kind))

    def add(self, kind: str, table: pa.Table) -> None:
        """Queue rows for one of the raw tables ('ratings', 'movies', 'probe', 'qualifying', 'splits')."""
        if table.num_rows == 0:
            return
        self._pending.setdefault(kind, []).append(table)
        self._pending_rows[kind] = self._pending_rows.get(kind, 0) + table.num_rows
        if self._pending_rows[kind] >= self.BATCH_ROWS:
            self._flush(kind)

    def add_ratings(self, counts: FileCounts, table: pa.Table, dedupe_in_batch: bool = True) -> None:
        """Queue ratings of one file; with `dedupe_in_batch`, duplicates inside the batch are resolved now."""
        table = table.cast(RATINGS_SCHEMA)
        counts.loaded += table.num_rows
        if dedupe_in_batch:
            table, dropped = split_duplicates(table)
            if dropped is not None:
                self._record_duplicates(dropped)  # moves their count from loaded to duplicates
        self.add("ratings", table)

    def resolve_duplicates_later(self, movie_ids: set[int] | None = None) -> None:
        """Ask for a warehouse-wide duplicate pass: for these movies, or (None) for all ratings."""
        if movie_ids is None:
            self._resolve_all = True
        else:
            self._resolve_movies |= movie_ids

    def _record_duplicates(self, dropped: pa.Table) -> None:
        by_id = {f.file_id: f for f in self.files}
        ids, n = np.unique(dropped.column("file_id").to_numpy(), return_counts=True)
        for file_id, count in zip(ids, n):
            by_id[int(file_id)].duplicates += int(count)
            by_id[int(file_id)].loaded -= int(count)
        self.con.register("_dups", dropped)
        self.con.execute(
            """insert into raw.duplicates__loading
               select f.file, d.line, d.movie_id, d.user_id, d.rating, d.rated_on, d.rated_at
               from _dups as d inner join (select unnest(?) as file_id, unnest(?) as file) as f using (file_id)""",
            [[f.file_id for f in self.files], [f.file for f in self.files]],
        )
        self.con.unregister("_dups")

    # --- writing ------------------------------------------------------------------------------

    def _flush(self, kind: str) -> None:
        tables = self._pending.pop(kind, [])
        self._pending_rows.pop(kind, None)
        if not tables:
            return
        batch = pa.concat_tables(tables)
        self.con.register("_batch", batch)
        self.con.execute(f"insert into raw.{kind}__loading by name select * from _batch")
        self.con.unregister("_batch")

    def _flush_rejects(self) -> None:
        """Write the queued rejects in one insert (row-by-row inserts cost milliseconds each)."""
        if self._rejects:
            files, lines, texts, reasons = zip(*self._rejects)
            batch = pa.table(
                {
                    "file": pa.array(files, pa.string()),
                    "line": pa.array(lines, pa.int64()),
                    "raw_text": pa.array(texts, pa.string()),
                    "reason": pa.array(reasons, pa.string()),
                }
            )
            self.con.register("_rejects", batch)
            self.con.execute("insert into raw.rejects__loading by name select * from _rejects")
            self.con.unregister("_rejects")
            self._rejects = []

    def _resolve_duplicates_in_warehouse(self) -> None:
        """The duplicate rule over the loaded table, for sources not grouped by movie."""
        if not (self._resolve_all or self._resolve_movies):
            return
        scope = "true" if self._resolve_all else "movie_id in (select unnest(?))"
        params = [] if self._resolve_all else [sorted(self._resolve_movies)]
        self.con.execute(
            f"""
            create temp table _losers as
            with candidates as (
                select * from raw.ratings__loading
                where {scope}
                  and (user_id, movie_id) in (
                      select (user_id, movie_id) from raw.ratings__loading where {scope}
                      group by user_id, movie_id having count(*) > 1
                  )
            )
            select * from candidates
            qualify row_number() over (
                partition by user_id, movie_id
                order by rated_on desc, rated_at desc nulls last, file_id desc, line desc
            ) > 1
            """,
            params * 2,
        )
        losers = self.con.execute("select * from _losers").arrow()
        if hasattr(losers, "read_all"):
            losers = losers.read_all()
        if losers.num_rows:
            self.con.execute(
                "delete from raw.ratings__loading where (file_id, line) in (select (file_id, line) from _losers)"
            )
            self._record_duplicates(losers.cast(RATINGS_SCHEMA))
        self.con.execute("drop table _losers")

    def finish(self, fmt: str, variant: str) -> dict:
        """Flush, resolve duplicates, check the counts and the reject rate, write the summary tables."""
        for kind in list(self._pending):
            self._flush(kind)
        self._flush_rejects()
        self._resolve_duplicates_in_warehouse()
        for f in self.files:
            if f.accounted != f.lines:
                raise AssertionError(f"{f.file}: counts do not add up: {f}")  # a bug, not bad input
        self.con.executemany(
            "insert into raw.files__loading values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (f.file_id, f.file, f.kind, f.bytes, f.lines, f.headers, f.blank, f.loaded, f.rejected, f.duplicates)
                for f in self.files
            ],
        )
        window_start, window_end = date_window(fmt)
        self.con.execute(
            """insert into raw.dataset__loading
               select ?, ?, ?, min(rating), max(rating), ?, count(*), count(distinct user_id), count(distinct movie_id),
                      coalesce(count(*) > 0 and count(rated_on) = count(*), false), ?, ?
               from raw.ratings__loading""",
            [fmt, variant, str(self.root), DUPLICATE_RULE, window_start, window_end],
        )
        summary = self.summary()
        over = [
            kind
            for kind, (rejected, records) in self._records_by_kind().items()
            if rejected > self.reject_threshold * max(records, 1)
        ]
        if over:
            raise IngestError(self._threshold_message(over))
        self.con.execute("begin transaction")
        for table in RAW_TABLES:
            self.con.execute(f"drop table if exists raw.{table}")
            self.con.execute(f"alter table raw.{table}__loading rename to {table}")
        self.con.execute("commit")
        return summary

    def abort(self) -> None:
        """Drop what this run loaded; the previous raw tables were never touched."""
        try:
            self.con.execute("rollback")
        except duckdb.Error:
            pass  # no transaction was open
        self._drop_loading_tables()

    # --- reporting ----------------------------------------------------------------------------

    def summary(self) -> dict:
        totals = {
            k: sum(getattr(f, k) for f in self.files)
            for k in ("lines", "headers", "blank", "loaded", "rejected", "duplicates")
        }
        totals["records"] = totals["loaded"] + totals["rejected"] + totals["duplicates"]
        return totals

    def _records_by_kind(self) -> dict[str, tuple[int, int]]:
        """(rejected, records) per kind of file: the reject limit applies to each kind on its own,
        so a broken title file is not hidden behind millions of good ratings."""
        totals: dict[str, tuple[int, int]] = {}
        for f in self.files:
            rejected, records = totals.get(f.kind, (0, 0))
            totals[f.kind] = (rejected + f.rejected, records + f.loaded + f.rejected + f.duplicates)
        return totals

    def _threshold_message(
        self, kinds: list[str], partial: bool = False, by_kind: dict[str, tuple[int, int]] | None = None
    ) -> str:
        by_kind = by_kind or self._records_by_kind()
        files = [f.file for f in self.files if f.kind in kinds]
        examples = self.con.execute(
            "select file, line, reason, raw_text from raw.rejects__loading where file in (select unnest(?)) "
            "order by file, line limit 10",
            [files],
        ).fetchall()
        lines = [
            f"{by_kind[kind][0]:,} of {by_kind[kind][1]:,} {kind} records rejected "
            f"({by_kind[kind][0] / max(by_kind[kind][1], 1):.3%})"
            for kind in kinds
        ]
        so_far = " so far, more than the rest of the input could make up for" if partial else ""
        lines = [
            "; ".join(lines) + f"{so_far}: over the limit of {self.reject_threshold:.3%} (--max-reject-rate); "
            "nothing was written. First rejects:"
        ]
        lines += [f"  {file}:{line}: {reason}: {raw!r}" for file, line, reason, raw in examples]
        return "\n".join(lines)

    def report_lines(self) -> list[str]:
        rows = [("file", "lines", "headers", "blank", "loaded", "rejected", "duplicates")]
        for f in self.files:
            rows.append((f.file, f.lines, f.headers, f.blank, f.loaded, f.rejected, f.duplicates))
        s = self.summary()
        rows.append(("total", s["lines"], s["headers"], s["blank"], s["loaded"], s["rejected"], s["duplicates"]))
        widths = [max(len(f"{r[i]:,}" if isinstance(r[i], int) else str(r[i])) for r in rows) for i in range(7)]
        out = []
        for r in rows:
            cells = [f"{v:,}" if isinstance(v, int) else str(v) for v in r]
            out.append("  ".join([cells[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]))
        return out
