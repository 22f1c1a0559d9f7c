"""Ingestion: raw Netflix Prize, MovieLens or generic ratings files into the warehouse's `raw` schema.

`ingest(folder)` recognizes the layout (`ingest(file, fmt="csv", columns=...)` reads one
delimited ratings file with a column mapping, `movierec.ingest.generic`), streams every file through its parser and writes
`raw.ratings`, `raw.movies`, `raw.probe`, `raw.qualifying`, `raw.splits`, `raw.movie_genres`
(optional genre metadata beside Netflix-layout files, `movie_genres.csv`), plus the audit
tables `raw.rejects`, `raw.duplicates`, `raw.files` and `raw.dataset`; the new tables replace
the old ones only when the whole run succeeds.
dbt's staging models read these tables.
"""

from __future__ import annotations

import math
import os
import re
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from movierec.ingest import generic, genres, movielens, netflix
from movierec.ingest.common import DUPLICATE_RULE, IngestError, Ingestion, Progress, check_input_file
from movierec.ingest.parquet import check_parquet_dir, write_raw_parquet
from movierec.warehouse import warehouse_path

FORMATS = ("auto", "netflix", "movielens", "csv")

__all__ = ["IngestError", "ingest", "detect", "DUPLICATE_RULE"]


@dataclass
class NetflixLayout:
    """The Netflix Prize files found in a folder."""

    variant: str  # combined_data | training_set | training_set.tar
    ratings: list[Path]
    titles: Path | None = None
    probe: Path | None = None
    qualifying: Path | None = None
    genres: Path | None = None  # movie_genres.csv: optional metadata, not a Netflix Prize file
    ignored: list[str] = field(default_factory=list)

    @property
    def record_files(self) -> list[Path]:
        return [p for p in (*self.ratings, self.probe, self.qualifying) if p is not None]


def _number(path: Path) -> int:
    digits = re.findall(r"\d+", path.stem)
    return int(digits[-1]) if digits else 0


def detect_netflix(root: Path) -> NetflixLayout | None:
    combined = sorted(root.glob("combined_data_*.txt"), key=_number)
    training_dir = root / "training_set"
    per_movie = sorted(training_dir.glob("mv_*.txt") if training_dir.is_dir() else root.glob("mv_*.txt"), key=_number)
    tar = root / "training_set.tar"
    candidates = [
        ("combined_data", combined, "combined_data_*.txt"),
        ("training_set", per_movie, "training_set/mv_*.txt"),
        ("training_set.tar", [tar] if tar.is_file() else [], "training_set.tar"),
    ]
    found = [(variant, files, label) for variant, files, label in candidates if files]
    if not found:
        return None
    for _, files, _ in found[:1]:
        for path in files:
            check_input_file(path, "rating file")
    variant, files, _ = found[0]
    layout = NetflixLayout(variant=variant, ratings=files, ignored=[label for _, _, label in found[1:]])
    for name in ("movie_titles.csv", "movie_titles.txt"):
        if (root / name).exists() or (root / name).is_symlink():
            check_input_file(root / name, "titles file")
            layout.titles = root / name
            break
    for name in ("probe", "qualifying"):
        if (root / f"{name}.txt").exists() or (root / f"{name}.txt").is_symlink():
            check_input_file(root / f"{name}.txt", f"{name} file")
            setattr(layout, name, root / f"{name}.txt")
    layout.genres = genres.find(root)
    return layout


def _suggestion(root: Path) -> str:
    """A `--format csv` command for the first ratings-like file in `root`, as a sentence, or ''."""
    candidates = (
        [root]
        if root.is_file()
        else sorted(p for p in root.iterdir() if p.suffix.lower() in (".csv", ".txt", ".tsv", ".dat") and p.is_file())
    )
    for path in candidates[:20]:
        command = generic.suggest(path)
        if command:
            return f"; if {path.name} holds ratings, load it with: {command}"
    return ""


def detect(
    root: Path,
    fmt: str = "auto",
    columns: str | dict | None = None,
    delimiter: str | None = None,
    titles: Path | None = None,
) -> tuple[str, object]:
    """Recognize the layout of `root`: ("netflix", NetflixLayout), ("movielens", MovieLensLayout),
    or, with fmt "csv", ("csv", generic.CsvLayout) for the ratings file `root`."""
    if fmt not in FORMATS:
        raise IngestError(f"unknown format {fmt!r}: use {', '.join(FORMATS)}")
    if fmt == "csv" or columns is not None:
        if fmt not in ("auto", "csv"):
            raise IngestError(f"--columns applies to --format csv, not --format {fmt}")
        if columns is None:
            raise IngestError("--format csv needs --columns, e.g. --columns user=User_ID,movie=Movie_ID,rating=Rating")
        if root.is_dir():
            raise IngestError(f"{root} is a folder: --format csv reads one ratings file, pass its path")
        return "csv", generic.detect(root, columns, delimiter, titles)
    if delimiter is not None or titles is not None:
        raise IngestError("--delimiter and --titles apply to --format csv (with --columns)")
    if root.is_symlink() and not root.exists():
        raise IngestError(f"{root} is a broken symbolic link")
    if not root.exists():
        raise IngestError(f"folder {root} does not exist")
    if not root.is_dir():
        raise IngestError(
            f"{root} is a file: pass the folder that holds the Netflix or MovieLens files"
            + (
                _suggestion(root)
                or "; for a single ratings file use --format csv --columns user=...,movie=...,rating=..."
            )
        )
    try:
        entries = list(root.iterdir())
    except OSError as exc:
        raise IngestError(f"cannot list folder {root}: {exc.strerror or exc}") from None
    if not entries:
        raise IngestError(f"folder {root} is empty: nothing to ingest (try `movierec generate --out {root}`)")
    layouts = []
    if fmt in ("auto", "netflix"):
        layout = detect_netflix(root)
        if layout is not None:
            layouts.append(("netflix", layout))
    if fmt in ("auto", "movielens"):
        layout = movielens.detect(root)
        if layout is not None:
            layouts.append(("movielens", layout))
    if not layouts:
        names = sorted(p.name for p in entries)
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        wanted = {
            "auto": "Netflix Prize files (combined_data_*.txt, training_set/mv_*.txt or training_set.tar) or "
            "MovieLens files (u.data, ratings.dat or ratings.csv)",
            "netflix": "Netflix Prize files (combined_data_*.txt, training_set/mv_*.txt or training_set.tar)",
            "movielens": "MovieLens files (u.data, ratings.dat or ratings.csv)",
        }[fmt]
        raise IngestError(f"format not recognized in {root}: expected {wanted}; found: {shown}{_suggestion(root)}")
    if len(layouts) > 1:
        raise IngestError(f"{root} holds both Netflix and MovieLens files: pass --format netflix or --format movielens")
    return layouts[0]


def check_reject_rate(value: float) -> float:
    """The --max-reject-rate value, or IngestError: a share from 0 to 1 (NaN would switch the limit off)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise IngestError(
            f"--max-reject-rate {value!r} is not a number: give a share from 0 to 1, e.g. 0.001"
        ) from None
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise IngestError(f"--max-reject-rate {value} is not a share from 0 to 1 (e.g. 0.001 = 0.1%)")
    return value


def _lock_holder(message: str) -> str:
    match = re.search(r"\(PID (\d+)\)", message)
    return f" (PID {match.group(1)})" if match else ""


def open_warehouse(target: Path) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """Open the warehouse for writing: (connection, whether this created the file); IngestError with one
    clear line when the path cannot be made, the file is held by another process, or is not DuckDB."""
    if target.is_dir():
        raise IngestError(f"warehouse {target} is a folder: give a file path (e.g. warehouse/movierec.duckdb)")
    created = not target.exists()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise IngestError(f"cannot create the warehouse folder {target.parent}: a file is in the way") from None
    except OSError as exc:
        raise IngestError(f"cannot create the warehouse folder {target.parent}: {exc.strerror or exc}") from None
    if created and not os.access(target.parent, os.W_OK):
        raise IngestError(f"cannot create the warehouse {target}: folder {target.parent} is not writable")
    try:
        con = duckdb.connect(str(target))
    except duckdb.Error as exc:
        if created:
            remove_warehouse(target)
        text = str(exc)
        if "lock" in text.lower():
            raise IngestError(
                f"warehouse {target} is in use by another process{_lock_holder(text)} "
                "(a dbt build, the API or a notebook?): stop it, or pass another --warehouse"
            ) from None
        if "not a valid DuckDB database" in text or "database file" in text.lower():
            raise IngestError(
                f"warehouse {target} is not a DuckDB database: move it away or pass another --warehouse"
            ) from None
        if "permission" in text.lower() or "read-only" in text.lower():
            raise IngestError(f"cannot open the warehouse {target} for writing: permission denied") from None
        raise IngestError(f"cannot open the warehouse {target}: {text.splitlines()[0]}") from None
    return con, created


def remove_warehouse(target: Path) -> None:
    """Delete a warehouse this run created and could not fill, so no empty file is left behind."""
    for path in (target, Path(str(target) + ".wal")):
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def ingest(
    root: Path,
    fmt: str = "auto",
    warehouse: str | Path | None = None,
    reject_threshold: float = 0.001,
    progress: bool = True,
    quiet: bool = False,
    columns: str | dict | None = None,
    delimiter: str | None = None,
    titles: str | Path | None = None,
    parquet: str | Path | None = None,
) -> dict:
    """Load the rating files in `root` (with fmt "csv": the ratings file `root`, read with the
    `columns` mapping) into the warehouse; with `parquet`, also write the raw tables as Parquet
    files in that folder (for the Spark target, `movierec.ingest.parquet`). Returns the counts;
    raises IngestError."""
    root = Path(root)
    reject_threshold = check_reject_rate(reject_threshold)
    kind, layout = detect(root, fmt, columns, delimiter, Path(titles) if titles is not None else None)
    started = time.perf_counter()
    target = warehouse_path(warehouse)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    base = root
    if kind == "netflix":
        total_bytes = sum(p.stat().st_size for p in layout.record_files)
        variant = layout.variant
        say(f"ingest: Netflix Prize files ({variant}) from {root}")
        for label in layout.ignored:
            say(f"ingest: also found {label}: ignored, {variant} is read instead (one copy of the ratings)")
        if layout.titles is None:
            say("ingest: no movie_titles.csv/.txt: movies will have no titles")
    elif kind == "movielens":
        total_bytes = layout.total_bytes
        variant = layout.variant
        say(f"ingest: MovieLens files ({variant}) from {root}")
        skipped = [name for name in movielens.NOT_LOADED if (layout.root / name).exists()]
        if skipped:
            say(f"ingest: not loaded: {', '.join(skipped)} (only ratings, movies and the canonical splits are used)")
    else:
        total_bytes = layout.total_bytes
        variant = layout.variant
        base = root.parent
        say(f"ingest: ratings file {root} ({layout.describe()})")
        if not layout.has_dates:
            say(
                "ingest: no date column: ratings load with rated_on null, and dbt's split holds out a random "
                "share of each user's ratings"
            )

    if parquet is not None:  # a folder that cannot be one fails now, not after the whole load
        parquet = check_parquet_dir(parquet)
    con, created = open_warehouse(target)
    ingestion = None
    try:
        con.execute("set memory_limit = '2GB'")  # with the parser's buffers, the run stays under 4 GB
        ingestion = Ingestion(con, base, reject_threshold, Progress(total_bytes, enabled=progress and not quiet))
        ingestion.begin()
        if kind == "netflix":
            if layout.variant == "training_set.tar":
                netflix.load_training_set_tar(layout.ratings[0], ingestion)
            else:
                netflix.load_movie_block_files(layout.ratings, netflix.RATINGS, ingestion)
            if layout.titles is not None:
                netflix.load_movie_titles(layout.titles, ingestion)
            if layout.probe is not None:
                netflix.load_movie_block_files([layout.probe], netflix.PROBE, ingestion)
            if layout.qualifying is not None:
                netflix.load_movie_block_files([layout.qualifying], netflix.QUALIFYING, ingestion)
            if layout.genres is not None:
                genres.load_movie_genres(layout.genres, ingestion)
        elif kind == "movielens":
            movielens.load(layout, ingestion)
        else:
            generic.load(layout, ingestion)
        ingestion.progress.close()
        summary = ingestion.finish(kind, variant)
    except BaseException as exc:
        if ingestion is not None:
            try:
                ingestion.abort()
            except duckdb.Error:
                pass
        con.close()
        if created:
            remove_warehouse(target)
        if isinstance(exc, OSError):
            name = exc.filename if exc.filename is not None else "an input file"
            raise IngestError(f"cannot read {name}: {exc.strerror or exc}") from None
        if isinstance(exc, tarfile.TarError):
            raise IngestError(f"{layout.ratings[0]}: not a readable tar archive: {exc}") from None
        raise
    try:  # the warehouse is loaded and committed: a failed copy keeps it (and the previous copy)
        if parquet is not None:
            write_raw_parquet(con, parquet)
    finally:
        con.close()
    elapsed = time.perf_counter() - started
    for line in ingestion.report_lines():
        say("  " + line)
    say(
        f"ingest: read {summary['lines']:,} lines: {summary['loaded']:,} loaded, {summary['rejected']:,} rejected "
        f"(raw.rejects), {summary['duplicates']:,} duplicates superseded (raw.duplicates), "
        f"{summary['headers']:,} headers, {summary['blank']:,} blank; into {target} in {elapsed:.1f} s"
    )
    if parquet is not None:
        say(f"ingest: raw tables also written as Parquet to {parquet} (the Spark target's source)")
    if summary["duplicates"]:
        say(f"ingest: duplicate rule: {DUPLICATE_RULE}")
    summary["seconds"] = elapsed
    summary["format"] = kind
    summary["variant"] = variant
    return summary
