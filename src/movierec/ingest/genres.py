"""Optional genre metadata beside Netflix-layout files: `movie_genres.csv` (`movie_id,genre`).

The built-in sample writes it as the truth of the genres it planted; it is not a Netflix Prize
file. It lands in `raw.movie_genres`, one row per movie and genre. MovieLens genres (`u.item`
flags, `movies.dat`, `movies.csv`) stay in `raw.movies.genres`; the staging model
`stg_ingest__movie_genres` unites both into one table. No recommender reads either: they exist
to check what the models found.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa

from movierec.ingest.common import FileCounts, Ingestion

FILE_NAME = "movie_genres.csv"
HEADER = ("movie_id", "genre")
SCHEMA = pa.schema([("movie_id", pa.int32()), ("genre", pa.string())])
_INT = re.compile(r"^\d+$")
MAX_GENRE_LENGTH = 100


def find(root: Path) -> Path | None:
    """The genre file of a Netflix-layout folder, if there is one."""
    path = root / FILE_NAME
    return path if path.is_file() else None


def parse(path: Path, counts: FileCounts, ingestion: Ingestion) -> pa.Table:
    """Rows of `movie_id,genre`: a header line is optional; every other line must have a positive
    integer id and a non-empty genre, and list a (movie, genre) pair once. Bad lines are rejected
    with their line number and reason; the counts add up (lines = headers + blank + loaded + rejected)."""
    data = path.read_bytes()
    counts.bytes = len(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    ids: list[int] = []
    names: list[str] = []
    first_seen: dict[tuple[int, str], int] = {}
    for number, raw in enumerate(lines, start=1):
        counts.lines += 1
        line = raw.rstrip("\r")
        if not line.strip():
            counts.blank += 1
            continue
        parts = [part.strip() for part in line.split(",")]
        if number == 1 and tuple(p.lower() for p in parts) == HEADER:
            counts.headers += 1
            continue
        if len(parts) != 2:
            ingestion.reject(counts, number, line, f"expected 2 fields (movie_id,genre), found {len(parts)}")
            continue
        movie_id, genre = parts
        if not _INT.match(movie_id) or not 0 < int(movie_id) < 2**31:
            ingestion.reject(counts, number, line, f"movie id {movie_id!r} is not a positive integer")
            continue
        if not genre:
            ingestion.reject(counts, number, line, "empty genre")
            continue
        if len(genre) > MAX_GENRE_LENGTH:
            ingestion.reject(counts, number, line, f"genre longer than {MAX_GENRE_LENGTH} characters")
            continue
        key = (int(movie_id), genre)
        if key in first_seen:
            ingestion.reject(
                counts, number, line, f"movie {key[0]} genre {genre!r} already listed at line {first_seen[key]}"
            )
            continue
        first_seen[key] = number
        ids.append(key[0])
        names.append(genre)
    counts.loaded += len(ids)
    return pa.table({"movie_id": pa.array(ids, pa.int32()), "genre": pa.array(names, pa.string())}, schema=SCHEMA)


def load_movie_genres(path: Path, ingestion: Ingestion) -> None:
    """Parse `movie_genres.csv` into raw.movie_genres (file kind `genres` in raw.files)."""
    counts = ingestion.file(path, "genres")
    ingestion.add("movie_genres", parse(path, counts, ingestion))
