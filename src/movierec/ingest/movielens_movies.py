"""The MovieLens movies files: ml-100k's `u.item` (with `u.genre`), ml-1m/10m's `movies.dat` and
ml-latest's `movies.csv`, and the column-header check the MovieLens ratings files share.

The title loses its trailing ` (1995)` (kept whole when there is no year), the year goes to
`release_year` (in ml-100k, a title without a year takes the year of its release date, e.g.
`Land Before Time III (1995) (V)`), genre names are joined with `|`; `(no genres listed)` and
ml-100k's `unknown` genre become NULL. Every bad line is rejected with its file, line number, text
and reason. `movierec.ingest.movielens` detects the layouts and loads the ratings (and re-exports
these names).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pyarrow as pa

from movierec.ingest.common import MOVIES_SCHEMA, FileCounts, IngestError, Ingestion
from movierec.ingest.reading import decode_text, small_file_lines

MOVIES_CSV_HEADER = ("movieid", "title", "genres")
STANDARD_100K_GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
NO_GENRES = {"(no genres listed)", "unknown", ""}

_INT = re.compile(r"^\d+$", re.ASCII)
_TITLE_YEAR = re.compile(r"^(.*?)\s*\((\d{4})(?:\s*[-\u2013]\s*(?:\d{4})?\s*)?\)$")
_RELEASE_DATE = re.compile(r"^\d{1,2}-[A-Za-z]{3}-\d{4}$", re.ASCII)


def _split_lines(text: str) -> list[str]:
    """Lines as `wc -l` sees them, plus a last line without a newline."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def header_or_data(path: Path, text: str, sep: str, expected: tuple[str, ...]) -> bool:
    """True if line 1 is the expected column header, False if it is a data line; IngestError otherwise."""
    first = text.lstrip("\ufeff").strip()
    names = tuple(name.strip().strip('"').lower() for name in first.split(sep))
    if names == expected:
        return True
    if not first or _INT.match(names[0]):
        return False
    if len(names) != len(expected) and set(names) <= set(expected):
        missing = ",".join(name for name in expected if name not in names)
        raise IngestError(
            f"{path}:1: column header {first!r} lacks {missing}: the MovieLens {path.name} has "
            f"{','.join(expected)!r}; load other columns with --format csv --columns (see movierec ingest --help)"
        )
    raise IngestError(
        f"{path}:1: column header {first!r} is not the MovieLens header {','.join(expected)!r} "
        "(columns in another order would be misread)"
    )


# --- movies -----------------------------------------------------------------------------------------


def split_title(title: str) -> tuple[str, int | None]:
    """`Toy Story (1995)` -> ("Toy Story", 1995); a title without a trailing year is kept whole."""
    title = title.strip()
    match = _TITLE_YEAR.match(title)
    if match and match.group(1).strip():
        return match.group(1).strip(), int(match.group(2))
    return title, None


def _join_genres(names) -> str | None:
    kept = [name.strip() for name in names if name.strip() not in NO_GENRES]
    return "|".join(kept) if kept else None


class _Movies:
    """Rows of one movies file, with the checks every layout shares."""

    def __init__(self, counts: FileCounts, ingestion: Ingestion):
        self.counts = counts
        self.ingestion = ingestion
        self.first_seen: dict[int, int] = {}
        self.ids: list[int] = []
        self.titles: list[str] = []
        self.years: list[int | None] = []
        self.genres: list[str | None] = []

    def add(
        self, number: int, line: str, movie_id: str, title: str, genres: str | None, fallback_year: int | None = None
    ) -> None:
        movie_id = movie_id.strip()
        if not _INT.match(movie_id) or not 0 < int(movie_id) < 2**31:
            self.ingestion.reject(self.counts, number, line, f"movie id {movie_id!r} is not a positive integer")
            return
        if not title.strip():
            self.ingestion.reject(self.counts, number, line, "empty title")
            return
        key = int(movie_id)
        if key in self.first_seen:
            self.ingestion.reject(
                self.counts, number, line, f"movie id {key} already listed at line {self.first_seen[key]}"
            )
            return
        self.first_seen[key] = number
        name, year = split_title(title)
        self.ids.append(key)
        self.titles.append(name)
        self.years.append(year if year is not None else fallback_year)
        self.genres.append(genres)

    def finish(self) -> None:
        self.counts.loaded += len(self.ids)
        table = pa.table(
            {
                "movie_id": pa.array(self.ids, pa.int32()),
                "title": pa.array(self.titles, pa.string()),
                "release_year": pa.array(self.years, pa.int16()),
                "genres": pa.array(self.genres, pa.string()),
            },
            schema=MOVIES_SCHEMA,
        )
        self.ingestion.add("movies", table)
        self.ingestion.progress.advance(self.counts.bytes, len(self.ids))


def read_genre_names(path: Path | None) -> list[str]:
    """Genre names of ml-100k in flag order, from `u.genre` (`name|index`) or the standard 19."""
    if path is None:
        return list(STANDARD_100K_GENRES)
    names: dict[int, str] = {}
    for number, raw in enumerate(_split_lines(decode_text(path.read_bytes())), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        parts = line.split("|")
        if len(parts) != 2 or not _INT.match(parts[1].strip()) or not parts[0].strip():
            raise IngestError(f"{path}:{number}: expected `genre name|index`, found {line!r}")
        index = int(parts[1].strip())
        if index in names:
            raise IngestError(f"{path}:{number}: genre index {index} already used by {names[index]!r}")
        names[index] = parts[0].strip()
    if sorted(names) != list(range(len(names))) or not names:
        raise IngestError(f"{path}: genre indexes must run 0..n-1, found {sorted(names)}")
    return [names[i] for i in range(len(names))]


def _release_year(text: str) -> int | None:
    """Year of an ml-100k release date `01-Jan-1995`; ValueError if malformed."""
    if not _RELEASE_DATE.match(text):
        raise ValueError
    return dt.datetime.strptime(text, "%d-%b-%Y").year


def load_u_item(path: Path, genre_names: list[str], ingestion: Ingestion) -> None:
    """ml-100k `u.item`: `movie id|title|release date|video release date|IMDb URL|genre flags`."""
    counts = ingestion.file(path, "movies")
    movies = _Movies(counts, ingestion)
    n_fields = 5 + len(genre_names)
    layout = f"movie id|title|release date|video release date|IMDb URL|{len(genre_names)} genre flags"
    for number, line in small_file_lines(path, counts, ingestion):
        parts = line.split("|")
        if len(parts) != n_fields:
            ingestion.reject(counts, number, line, f"expected {n_fields} fields ({layout}), found {len(parts)}")
            continue
        flags = [flag.strip() for flag in parts[5:]]
        if any(flag not in ("0", "1") for flag in flags):
            ingestion.reject(counts, number, line, "genre flags must be 0 or 1")
            continue
        release = parts[2].strip()
        try:
            year = _release_year(release) if release else None
        except ValueError:
            ingestion.reject(counts, number, line, f"release date {release!r} is not like 01-Jan-1995")
            continue
        genres = _join_genres(name for name, flag in zip(genre_names, flags) if flag == "1")
        movies.add(number, line, parts[0], parts[1], genres, fallback_year=year)
    movies.finish()


def load_movies_dat(path: Path, ingestion: Ingestion) -> None:
    """ml-1m / ml-10m `movies.dat`: `MovieID::Title (Year)::Genre|Genre`."""
    counts = ingestion.file(path, "movies")
    movies = _Movies(counts, ingestion)
    for number, line in small_file_lines(path, counts, ingestion):
        parts = line.split("::")
        if len(parts) < 3:
            ingestion.reject(counts, number, line, f"expected 3 fields (movie_id::title::genres), found {len(parts)}")
            continue
        # A `::` inside a title would make more than 3 fields: the id is first, the genres last.
        movies.add(number, line, parts[0], "::".join(parts[1:-1]), _join_genres(parts[-1].split("|")))
    movies.finish()


def load_movies_csv(path: Path, ingestion: Ingestion) -> None:
    """ml-latest `movies.csv`: header `movieId,title,genres`, titles with commas in double quotes.

    Each line is parsed on its own, so an unbalanced quote is rejected with its line instead of
    swallowing the lines after it.
    """
    counts = ingestion.file(path, "movies")
    movies = _Movies(counts, ingestion)
    for number, line in small_file_lines(path, counts, ingestion):
        if number == 1 and header_or_data(path, line, ",", MOVIES_CSV_HEADER):
            counts.headers += 1
            continue
        try:
            parts = next(csv.reader([line], strict=True))
        except csv.Error as exc:
            ingestion.reject(counts, number, line, f"bad CSV quoting: {exc}")
            continue
        if len(parts) != 3:
            ingestion.reject(counts, number, line, f"expected 3 fields (movieId,title,genres), found {len(parts)}")
            continue
        movies.add(number, line, parts[0], parts[1], _join_genres(parts[2].split("|")))
    movies.finish()
