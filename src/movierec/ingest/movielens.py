"""Parsers for the MovieLens (GroupLens) files.

Three layouts are recognized, in the folder given or in its single MovieLens subfolder:

* ml-100k: `u.data` (tab-separated `user id, item id, rating, timestamp`), `u.item`
  (`|`-separated, latin-1, 19 genre flags), `u.genre`, and the canonical splits
  `u1..u5.base/.test`, `ua/ub.base/.test` (the layout of `u.data`) into `raw.splits`;
* ml-1m / ml-10m: `ratings.dat` (`UserID::MovieID::Rating::Timestamp`) and `movies.dat`
  (`MovieID::Title (Year)::Genre|Genre`, latin-1 in ml-1m, UTF-8 in ml-10m);
* ml-latest, ml-latest-small, ml-20m/25m/32m: `ratings.csv` and `movies.csv` with a column
  header, RFC-4180 quoting in `movies.csv`.

Ratings files are streamed in chunks of about 16 MB cut at a newline. A chunk is parsed by
pyarrow with typed columns in one call (`::` is turned into a tab first) and checked in bulk
(positive ids, rating on the scale, timestamp between 1970 and 2100, one row per line); a chunk
that fails any check is parsed again line by line, so that every bad line is rejected with its
file, line number, text and reason while the good lines of the chunk are still loaded.

MovieLens files are not grouped by movie, so duplicates (a user rating a movie twice) are left
to the loader's warehouse-wide pass (`Ingestion.resolve_duplicates_later(None)`).

Movies (titles, years, genres) are read by `movierec.ingest.movielens_movies`; this module
detects the layouts, reads the ratings and splits, and loads a whole layout (`load`).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from movierec.ingest.common import FileCounts, IngestError, Ingestion, check_input_file, date_window
from movierec.ingest.movielens_movies import (  # the movies files; names re-exported for older imports
    MOVIES_CSV_HEADER,  # noqa: F401
    NO_GENRES,  # noqa: F401
    STANDARD_100K_GENRES,  # noqa: F401
    header_or_data,
    load_movies_csv,
    load_movies_dat,
    load_u_item,
    read_genre_names,
    split_title,  # noqa: F401
)
from movierec.ingest.reading import (
    TextStream,
    decode_text,
    iter_line_chunks,
    one_row_per_line,
    split_pieces,
    text_lines,
)

CHUNK_BYTES = 16 << 20
# Files in a MovieLens folder that are not read (tags, links, user demographics); ingest names them.
NOT_LOADED = (
    "tags.csv",
    "links.csv",
    "genome-scores.csv",
    "genome-tags.csv",
    "tags.dat",
    "users.dat",
    "u.user",
    "u.occupation",
    "u.info",
)


def timestamp_window(fmt: str = "movielens") -> tuple[int, int]:
    """Allowed timestamps, seconds since 1970-01-01 UTC: [first, end) of the format's date window."""
    first, last = date_window(fmt)
    epoch = dt.date(1970, 1, 1)
    return (first - epoch).days * 86400, ((last - epoch).days + 1) * 86400


RATING_FIELDS = ("user_id", "movie_id", "rating", "timestamp")
RATING_LAYOUT = ",".join(RATING_FIELDS)
RATINGS_CSV_HEADER = ("userid", "movieid", "rating", "timestamp")

_INT = re.compile(r"^\d+$", re.ASCII)
_SIGNED_INT = re.compile(r"^[+-]?\d+$", re.ASCII)
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$", re.ASCII)
# `Title (1995)`; also a run of years `(2006-2007)` / `(2006–2007)` / `(2006– )`, the first year counting.
_SPLIT_FILE = re.compile(r"^(u[0-9a-z]+)\.(base|test)$")


@dataclass(frozen=True)
class RatingsFormat:
    """How the lines of a ratings file are laid out."""

    name: str
    sep: str  # field separator ("\t", "::" or ",")
    header: tuple[str, ...] | None = None  # expected column header (lower-case), if the file has one


TAB = RatingsFormat("u.data", "\t")
DAT = RatingsFormat("ratings.dat", "::")
CSV = RatingsFormat("ratings.csv", ",", RATINGS_CSV_HEADER)


@dataclass
class MovieLensLayout:
    """The MovieLens files found in a folder."""

    variant: str  # ml-100k | ml-1m | ml-10m | ml-latest
    root: Path  # the folder holding the files (the folder given, or its MovieLens subfolder)
    ratings: Path
    format: RatingsFormat
    half_stars: bool  # ratings 0.5..5.0 in steps of 0.5; else whole stars 1..5
    movies: Path | None = None
    genres: Path | None = None  # ml-100k's u.genre
    splits: list[tuple[str, str, Path]] = field(default_factory=list)  # (split, part, path), ml-100k

    @property
    def files(self) -> list[Path]:
        paths = [self.ratings, self.movies, self.genres, *(p for _, _, p in self.splits)]
        return [p for p in paths if p is not None]

    @property
    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.files)


# --- detection --------------------------------------------------------------------------------------


def _detect_in(folder: Path) -> MovieLensLayout | None:
    present = [
        name
        for name in ("ratings.csv", "ratings.dat", "u.data")
        if (folder / name).exists() or (folder / name).is_symlink()
    ]
    if not present:
        return None
    for name in present:
        check_input_file(folder / name, "ratings file")  # a folder or a broken link named like one: say so
    if len(present) > 1:
        raise IngestError(
            f"{folder} holds more than one MovieLens ratings file ({', '.join(present)}): "
            "keep one MovieLens dataset per folder"
        )
    name = present[0]
    if name == "u.data":
        splits = []
        for path in sorted(folder.iterdir(), key=lambda p: p.name):
            match = _SPLIT_FILE.match(path.name)
            if match and path.is_file():
                splits.append((match.group(1), "train" if match.group(2) == "base" else "test", path))
        return MovieLensLayout(
            variant="ml-100k",
            root=folder,
            ratings=folder / name,
            format=TAB,
            half_stars=False,
            movies=_optional(folder / "u.item"),
            genres=_optional(folder / "u.genre"),
            splits=splits,
        )
    if name == "ratings.dat":
        # ml-1m (whole stars, 24 MB) ships users.dat; ml-10m (half stars, 252 MB) ships tags.dat instead.
        if (folder / "users.dat").is_file():
            one_m = True
        elif (folder / "tags.dat").is_file():
            one_m = False
        else:
            one_m = (folder / name).stat().st_size < 100 << 20
        return MovieLensLayout(
            variant="ml-1m" if one_m else "ml-10m",
            root=folder,
            ratings=folder / name,
            format=DAT,
            half_stars=not one_m,
            movies=_optional(folder / "movies.dat"),
        )
    return MovieLensLayout(
        variant="ml-latest",
        root=folder,
        ratings=folder / name,
        format=CSV,
        half_stars=True,
        movies=_optional(folder / "movies.csv"),
    )


def _optional(path: Path) -> Path | None:
    if not (path.exists() or path.is_symlink()):
        return None
    check_input_file(path, "file")
    return path


def detect(root: Path) -> MovieLensLayout | None:
    """The MovieLens layout in `root`, or in its only MovieLens subfolder (an unzipped `ml-100k/`); else None."""
    root = Path(root)
    layout = _detect_in(root)
    if layout is not None:
        return layout
    found = [lay for sub in sorted(root.iterdir()) if sub.is_dir() and (lay := _detect_in(sub)) is not None]
    if len(found) > 1:
        names = ", ".join(lay.root.name for lay in found)
        raise IngestError(f"{root} holds several MovieLens datasets ({names}): pass the folder of one of them")
    return found[0] if found else None


# --- reading ----------------------------------------------------------------------------------------


# --- ratings ----------------------------------------------------------------------------------------


def _valid_values(user, movie, rating, ts, half_stars: bool) -> np.ndarray:
    """Per row: ids positive, rating on the scale, timestamp in the MovieLens date window."""
    with np.errstate(invalid="ignore"):
        steps = rating * 2 if half_stars else rating
        low, high = (1, 10) if half_stars else (1, 5)
        ok_rating = (steps >= low) & (steps <= high) & (steps == np.floor(steps))
    first, end = timestamp_window()
    return (user > 0) & (movie > 0) & ok_rating & (ts >= first) & (ts < end)


def _fast_ratings(chunk: bytes, fmt: RatingsFormat, half_stars: bool):
    """Parse a clean chunk in bulk: (user, movie, rating, timestamp) numpy arrays, or None to go line by line."""
    if chunk.count(b"\r") != chunk.count(b"\r\n"):
        return None  # a stray carriage return would split a line in two for pyarrow
    if fmt.sep == "::":
        if b"\t" in chunk:
            return None
        data, delimiter = chunk.replace(b"::", b"\t"), "\t"
    else:
        data, delimiter = chunk, fmt.sep
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=list(RATING_FIELDS)),
            parse_options=one_row_per_line(delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={
                    "user_id": pa.int32(),
                    "movie_id": pa.int32(),
                    "rating": pa.float64(),
                    "timestamp": pa.int64(),
                },
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    if table.num_rows != chunk.count(b"\n") or any(col.null_count for col in table.columns):
        return None
    user, movie, rating, ts = (table.column(name).to_numpy() for name in RATING_FIELDS)
    if not _valid_values(user, movie, rating, ts, half_stars).all():
        return None
    return user, movie, rating, ts


def _positive_int(label: str, text: str) -> int:
    if not _INT.match(text) or not 0 < int(text) < 2**31:
        raise ValueError(f"{label} {text!r} is not a positive integer")
    return int(text)


def _rating(text: str, half_stars: bool) -> float:
    if not _NUMBER.match(text):
        raise ValueError(f"rating {text!r} is not a number")
    value = float(text)
    if half_stars:
        if not (1 <= value * 2 <= 10 and (value * 2).is_integer()):
            raise ValueError(f"rating {text!r} is off the 0.5-5.0 scale (half stars)")
    elif not (1 <= value <= 5 and value.is_integer()):
        raise ValueError(f"rating {text!r} is off the 1-5 scale (whole stars)")
    return value


def _timestamp(text: str) -> int:
    if not _SIGNED_INT.match(text):
        raise ValueError(f"timestamp {text!r} is not an integer (seconds since 1970-01-01 UTC)")
    value = int(text)
    if value < 0:
        raise ValueError(f"timestamp {text} is negative")
    first, end = timestamp_window()
    if not first <= value < end:
        day = dt.date(1970, 1, 1) + dt.timedelta(days=value // 86400)
        low, high = date_window("movielens")
        raise ValueError(
            f"timestamp {text} ({day.isoformat()}) is outside the movielens window "
            f"{low.isoformat()}..{high.isoformat()}"
        )
    return value


def _slow_ratings(
    chunk: bytes, first_line: int, fmt: RatingsFormat, half_stars: bool, counts: FileCounts, ingestion: Ingestion
):
    """Parse line by line, rejecting each bad line with its reason. Returns the arrays and line numbers."""
    users, movies, ratings, stamps, numbers = [], [], [], [], []
    for number, text in text_lines(chunk, first_line, counts, ingestion, lambda: len(numbers)):
        fields = [value.strip() for value in text.split(fmt.sep)]
        if len(fields) != len(RATING_FIELDS):
            ingestion.reject(
                counts, number, text, f"expected {len(RATING_FIELDS)} fields ({RATING_LAYOUT}), found {len(fields)}"
            )
            continue
        try:
            user = _positive_int("user id", fields[0])
            movie = _positive_int("movie id", fields[1])
            rating = _rating(fields[2], half_stars)
            ts = _timestamp(fields[3])
        except ValueError as exc:
            ingestion.reject(counts, number, text, str(exc))
            continue
        users.append(user)
        movies.append(movie)
        ratings.append(rating)
        stamps.append(ts)
        numbers.append(number)
    return (
        np.array(users, dtype=np.int32),
        np.array(movies, dtype=np.int32),
        np.array(ratings, dtype=np.float64),
        np.array(stamps, dtype=np.int64),
        np.array(numbers, dtype=np.int64),
    )


def _parse_pieces(
    chunk: bytes, first_line: int, fmt: RatingsFormat, half_stars: bool, counts: FileCounts, ingestion: Ingestion
):
    """A chunk that failed the bulk parse: each piece in bulk if it is clean, else line by line."""
    parts = []
    for piece, lines_before in split_pieces(chunk):
        parsed = _fast_ratings(piece, fmt, half_stars)
        start = first_line + lines_before
        if parsed is not None:
            parts.append((*parsed, np.arange(start, start + piece.count(b"\n"), dtype=np.int64)))
        else:
            parts.append(_slow_ratings(piece, start, fmt, half_stars, counts, ingestion))
        ingestion.check_reject_limit(counts, sum(len(part[4]) for part in parts))
    return tuple(np.concatenate([part[i] for part in parts]) for i in range(5))


def _ratings_table(user, movie, rating, ts, lines, file_id: int) -> pa.Table:
    ts = ts.astype(np.int64)
    return pa.table(
        {
            "movie_id": pa.array(movie.astype(np.int32)),
            "user_id": pa.array(user.astype(np.int32)),
            "rating": pa.array(rating.astype(np.float32)),
            "rated_on": pa.array((ts // 86400).astype(np.int32), type=pa.date32()),
            "rated_at": pa.array(ts, type=pa.timestamp("s")),
            "file_id": pa.array(np.full(len(ts), file_id, dtype=np.int16)),
            "line": pa.array(lines.astype(np.int32)),
        }
    )


def parse_ratings(
    path: Path,
    fmt: RatingsFormat,
    half_stars: bool,
    counts: FileCounts,
    ingestion: Ingestion,
    split: tuple[str, str] | None = None,
    chunk_bytes: int | None = None,
) -> None:
    """Stream one ratings-layout file into `raw.ratings`, or (with `split`) into `raw.splits`."""
    with open(path, "rb") as raw_stream:
        stream = TextStream(raw_stream)
        line = 1
        carry = b""
        if fmt.header is not None:
            first = stream.readline()
            if first and header_or_data(path, decode_text(first), fmt.sep, fmt.header):
                counts.lines += 1
                counts.headers += 1
                counts.bytes += len(first)
                ingestion.progress.advance(len(first), 0)
                line = 2
            else:
                carry = first
        for chunk in iter_line_chunks(stream, chunk_bytes or CHUNK_BYTES, carry):
            n_lines = chunk.count(b"\n")
            parsed = _fast_ratings(chunk, fmt, half_stars)
            if parsed is not None:
                user, movie, rating, ts = parsed
                numbers = np.arange(line, line + n_lines, dtype=np.int64)
            else:
                user, movie, rating, ts, numbers = _parse_pieces(chunk, line, fmt, half_stars, counts, ingestion)
            counts.lines += n_lines
            counts.bytes += len(chunk)
            if split is None:
                ingestion.add_ratings(
                    counts, _ratings_table(user, movie, rating, ts, numbers, counts.file_id), dedupe_in_batch=False
                )
            else:
                n = len(user)
                ingestion.add(
                    "splits",
                    pa.table(
                        {
                            "split": pa.repeat(pa.scalar(split[0]), n),
                            "part": pa.repeat(pa.scalar(split[1]), n),
                            "user_id": pa.array(user.astype(np.int32)),
                            "movie_id": pa.array(movie.astype(np.int32)),
                        }
                    ),
                )
                counts.loaded += n
            ingestion.progress.advance(len(chunk), len(user))
            ingestion.check_reject_limit()
            line += n_lines
        counts.bytes += stream.extra_bytes


# --- the whole layout -------------------------------------------------------------------------------


def load(layout: MovieLensLayout, ingestion: Ingestion) -> None:
    """Load ratings, movies and (ml-100k) the canonical splits."""
    counts = ingestion.file(layout.ratings, "ratings")
    parse_ratings(layout.ratings, layout.format, layout.half_stars, counts, ingestion)
    ingestion.resolve_duplicates_later(None)  # not grouped by movie: one warehouse-wide pass
    if layout.movies is not None:
        if layout.format is TAB:
            genre_names = read_genre_names(layout.genres)
            if layout.genres is not None:
                ingestion.progress.advance(layout.genres.stat().st_size, 0)
            load_u_item(layout.movies, genre_names, ingestion)
        elif layout.format is DAT:
            load_movies_dat(layout.movies, ingestion)
        else:
            load_movies_csv(layout.movies, ingestion)
    for split, part, path in layout.splits:
        counts = ingestion.file(path, "splits")
        parse_ratings(path, layout.format, layout.half_stars, counts, ingestion, split=(split, part))
