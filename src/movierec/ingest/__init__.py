"""Ingestion: raw Netflix Prize or MovieLens files into the warehouse's `raw` schema.

`ingest(folder)` recognizes the layout, streams every file through its parser and writes
`raw.ratings`, `raw.movies`, `raw.probe`, `raw.qualifying`, `raw.splits`, `raw.movie_genres`
(optional genre metadata beside Netflix-layout files, `movie_genres.csv`), plus the audit
tables `raw.rejects`, `raw.duplicates`, `raw.files` and `raw.dataset`; the new tables replace
the old ones only when the whole run succeeds.
dbt's staging models read these tables.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from movierec.ingest import genres, movielens, netflix
from movierec.ingest.common import DUPLICATE_RULE, IngestError, Ingestion, Progress
from movierec.warehouse import connect, warehouse_path

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
    variant, files, _ = found[0]
    layout = NetflixLayout(variant=variant, ratings=files, ignored=[label for _, _, label in found[1:]])
    for name in ("movie_titles.csv", "movie_titles.txt"):
        if (root / name).is_file():
            layout.titles = root / name
            break
    for name in ("probe", "qualifying"):
        if (root / f"{name}.txt").is_file():
            setattr(layout, name, root / f"{name}.txt")
    layout.genres = genres.find(root)
    return layout


def detect(root: Path, fmt: str = "auto") -> tuple[str, object]:
    """Recognize the layout of `root`: ("netflix", NetflixLayout) or ("movielens", MovieLensLayout)."""
    if not root.exists():
        raise IngestError(f"folder {root} does not exist")
    if not root.is_dir():
        raise IngestError(f"{root} is not a folder: pass the folder that holds the rating files")
    if not any(root.iterdir()):
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
        names = sorted(p.name for p in root.iterdir())
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        wanted = {
            "auto": "Netflix Prize files (combined_data_*.txt, training_set/mv_*.txt or training_set.tar) or "
                    "MovieLens files (u.data, ratings.dat or ratings.csv)",
            "netflix": "Netflix Prize files (combined_data_*.txt, training_set/mv_*.txt or training_set.tar)",
            "movielens": "MovieLens files (u.data, ratings.dat or ratings.csv)",
        }[fmt]
        raise IngestError(f"format not recognized in {root}: expected {wanted}; found: {shown}")
    if len(layouts) > 1:
        raise IngestError(f"{root} holds both Netflix and MovieLens files: pass --format netflix or --format movielens")
    return layouts[0]


def ingest(
    root: Path,
    fmt: str = "auto",
    warehouse: str | Path | None = None,
    reject_threshold: float = 0.001,
    progress: bool = True,
    quiet: bool = False,
) -> dict:
    """Load the rating files in `root` into the warehouse. Returns the counts; raises IngestError."""
    root = Path(root)
    kind, layout = detect(root, fmt)
    started = time.perf_counter()
    target = warehouse_path(warehouse)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    if kind == "netflix":
        total_bytes = sum(p.stat().st_size for p in layout.record_files)
        variant = layout.variant
        say(f"ingest: Netflix Prize files ({variant}) from {root}")
        for label in layout.ignored:
            say(f"ingest: also found {label}: ignored, {variant} is read instead (one copy of the ratings)")
        if layout.titles is None:
            say("ingest: no movie_titles.csv/.txt: movies will have no titles")
    else:
        total_bytes = layout.total_bytes
        variant = layout.variant
        say(f"ingest: MovieLens files ({variant}) from {root}")

    con = connect(target)
    con.execute("set memory_limit = '2GB'")  # with the parser's buffers, the run stays under 4 GB
    ingestion = Ingestion(con, root, reject_threshold, Progress(total_bytes, enabled=progress and not quiet))
    ingestion.begin()
    try:
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
        else:
            movielens.load(layout, ingestion)
        ingestion.progress.close()
        summary = ingestion.finish(kind, variant)
    except BaseException:
        ingestion.abort()
        con.close()
        raise
    con.close()
    elapsed = time.perf_counter() - started
    for line in ingestion.report_lines():
        say("  " + line)
    say(
        f"ingest: read {summary['lines']:,} lines: {summary['loaded']:,} loaded, {summary['rejected']:,} rejected "
        f"(raw.rejects), {summary['duplicates']:,} duplicates superseded (raw.duplicates), "
        f"{summary['headers']:,} headers, {summary['blank']:,} blank; into {target} in {elapsed:.1f} s"
    )
    if summary["duplicates"]:
        say(f"ingest: duplicate rule: {DUPLICATE_RULE}")
    summary["seconds"] = elapsed
    summary["format"] = kind
    summary["variant"] = variant
    return summary
