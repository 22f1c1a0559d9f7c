"""The generic ratings format: one delimited file of ratings, with a column mapping.

For rating files that are neither Netflix Prize nor MovieLens: Kaggle subsets such as
`Netflix_Dataset_Rating.csv` (`User_ID,Rating,Movie_ID`) or `TestingRatings.txt`
(`movie,user,rating`, no header), and any `user,item,rating[,timestamp]` export:

    movierec ingest Netflix_Dataset_Rating.csv --format csv --columns user=User_ID,movie=Movie_ID,rating=Rating
    movierec ingest TestingRatings.txt --format csv --columns movie=1,user=2,rating=3

* Columns are named as in the file's header line, or numbered from 1 when the file has no
  header. With numbers, line 1 is a header if its user or movie field is not an integer.
  Other columns are ignored.
* The delimiter is `--delimiter` (`,`, `;`, `|`, `tab`, `::`, ...) or, by default, the first of
  tab, `::`, `,`, `;`, `|`, space found in line 1. Fields are not quoted.
* Ids are positive integers; ratings are numbers from 0.5 to 5 in steps of 0.5 (whole stars
  1-5 included).
* Dates (optional `date=` column): `YYYY-MM-DD`, an ISO date and time (`2005-01-01 10:00:00`,
  `2005-01-01T10:00:00Z`; kept in `rated_at`, UTC), or Unix seconds. They must fall in the
  `csv` date window (1970-01-01 to the day of the ingestion). **Without a date column every
  rating has `rated_on` null**, `raw.dataset.has_dates` is false, and dbt's split falls back to
  a random per-user holdout (`split_strategy` `random`).
* An optional titles file (`--titles`): Netflix `movie_id,year,title` (a header line such as
  Kaggle's `Movie_ID,Year,Name` is skipped) or MovieLens `movies.csv` (`movieId,title,genres`).

Streaming, rejects, counts, duplicates (the file is not grouped by movie: one warehouse-wide
pass) and the all-or-nothing swap are those of the other formats.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from movierec.ingest import movielens, netflix
from movierec.ingest.common import FileCounts, IngestError, Ingestion, date_window, date_window_reason
from movierec.ingest.reading import TextStream, iter_line_chunks, one_row_per_line, split_pieces, text_lines

CHUNK_BYTES = 16 << 20
ROLES = ("user", "movie", "rating", "date")
REQUIRED = ("user", "movie", "rating")
DELIMITERS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}
SNIFF_ORDER = ("\t", "::", ",", ";", "|", " ")
_INT = re.compile(r"^\d+$", re.ASCII)
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)$", re.ASCII)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}", re.ASCII)


def parse_columns(text: str) -> dict[str, str]:
    """`user=User_ID,movie=Movie_ID,rating=Rating[,date=Date]` -> {role: column}; IngestError if malformed."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        role, sep, column = part.partition("=")
        role, column = role.strip().lower(), column.strip()
        if not sep or not column:
            raise IngestError(f"--columns: {part.strip()!r} is not role=column (e.g. user=User_ID or user=2)")
        if role not in ROLES:
            raise IngestError(f"--columns: unknown role {role!r}: use {', '.join(ROLES)}")
        if role in mapping:
            raise IngestError(f"--columns: {role} is given twice")
        mapping[role] = column
    missing = [role for role in REQUIRED if role not in mapping]
    if missing:
        raise IngestError(
            f"--columns: {', '.join(missing)} missing: user, movie and rating are required "
            "(e.g. --columns user=User_ID,movie=Movie_ID,rating=Rating)"
        )
    numbered = [_INT.match(column) is not None for column in mapping.values()]
    if any(numbered) and not all(numbered):
        raise IngestError("--columns: give every column by name (as in the header) or every one by number (from 1)")
    if all(numbered):
        if any(int(column) < 1 for column in mapping.values()):
            raise IngestError("--columns: column numbers start at 1")
        if len({int(c) for c in mapping.values()}) != len(mapping):
            raise IngestError("--columns: two roles point at the same column")
    elif len(set(mapping.values())) != len(mapping):
        raise IngestError("--columns: two roles point at the same column")
    return mapping


def parse_delimiter(text: str | None) -> str | None:
    if text is None or text == "":
        return None
    return DELIMITERS.get(text.lower(), text)


def sniff_delimiter(line: str) -> str | None:
    for delimiter in SNIFF_ORDER:
        if delimiter in line:
            return delimiter
    return None


def _clean(name: str) -> str:
    return name.strip().strip('"').strip()


@dataclass
class CsvLayout:
    """A generic ratings file and how to read it."""

    ratings: Path
    columns: dict[str, str]  # role -> column name or 1-based number, as given
    delimiter: str
    header: bool
    n_fields: int
    index: dict[str, int]  # role -> 0-based field index
    titles: Path | None = None
    variant: str = "csv"

    @property
    def files(self) -> list[Path]:
        return [p for p in (self.ratings, self.titles) if p is not None]

    @property
    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.files)

    @property
    def has_dates(self) -> bool:
        return "date" in self.index

    def describe(self) -> str:
        cols = ", ".join(f"{role}={self.columns[role]}" for role in ROLES if role in self.columns)
        delimiter = {"\t": "tab", " ": "space"}.get(self.delimiter, repr(self.delimiter))
        return f"{cols}; delimiter {delimiter}; {'a header line' if self.header else 'no header line'}"


def _first_line(path: Path) -> str:
    with open(path, "rb") as raw:
        line = TextStream(raw).readline()
    return line.rstrip(b"\r\n").decode("utf-8", errors="replace")


def detect(
    path: Path, columns: str | dict[str, str], delimiter: str | None = None, titles: Path | None = None
) -> CsvLayout:
    """Check the file and the mapping against its first line; IngestError names what does not fit."""
    from movierec.ingest.common import check_input_file

    path = Path(path)
    check_input_file(path, "ratings file")
    if titles is not None:
        check_input_file(Path(titles), "titles file")
    mapping = columns if isinstance(columns, dict) else parse_columns(columns)
    first = _first_line(path)
    if not first.strip():
        raise IngestError(f"{path}:1: the first line is empty: expected a header or a rating")
    delim = parse_delimiter(delimiter) or sniff_delimiter(first)
    if delim is None:
        raise IngestError(f"{path}:1: cannot tell the delimiter of {first!r}: pass --delimiter")
    fields = [_clean(f) for f in first.split(delim)]
    numbered = all(_INT.match(c) for c in mapping.values())
    if numbered:
        index = {role: int(column) - 1 for role, column in mapping.items()}
        too_far = [f"{role}={mapping[role]}" for role, i in index.items() if i >= len(fields)]
        if too_far:
            raise IngestError(
                f"{path}:1: line 1 has {len(fields)} fields split on {delim!r}, so "
                f"{', '.join(too_far)} points past its end (wrong --delimiter?)"
            )
        header = not (_INT.match(fields[index["user"]]) and _INT.match(fields[index["movie"]]))
    else:
        lowered = [f.lower() for f in fields]
        index = {}
        for role, column in mapping.items():
            if column in fields:
                index[role] = fields.index(column)
            elif column.lower() in lowered:
                index[role] = lowered.index(column.lower())
            else:
                raise IngestError(
                    f"{path}:1: no column {column!r} ({role}) in the header {','.join(fields)!r} "
                    f"split on {delim!r}; name columns as in the header, or by number (user=1) "
                    "for a file without one"
                )
        header = True
    return CsvLayout(
        ratings=path,
        columns=mapping,
        delimiter=delim,
        header=header,
        n_fields=len(fields),
        index=index,
        titles=Path(titles) if titles is not None else None,
    )


# --- parsing ----------------------------------------------------------------------------------------


def _valid_rating(rating: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        steps = rating * 2
        return (steps >= 1) & (steps <= 10) & (steps == np.floor(steps))


def _bulk_dates(column: pa.ChunkedArray):
    """(rated_on, rated_at) for a clean column of dates, or None to go line by line."""
    first, last = date_window("csv")
    if pc.all(pc.match_substring_regex(column, r"^\d+$")).as_py():
        ts = pc.cast(column, pa.int64()).to_numpy()
        days = ts // 86400
        epoch = dt.date(1970, 1, 1)
        if days.min() < (first - epoch).days or days.max() > (last - epoch).days:
            return None
        return pa.array(days.astype(np.int32), type=pa.date32()), pa.array(ts, type=pa.timestamp("s"))
    lengths = pc.utf8_length(column)
    try:
        if pc.all(pc.equal(lengths, 10)).as_py():
            rated_on = pc.cast(column, pa.date32())
            rated_at = pa.nulls(len(column), pa.timestamp("s"))
        elif pc.all(pc.match_substring_regex(column, r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$")).as_py():
            rated_at = pc.cast(pc.replace_substring(column, "T", " "), pa.timestamp("s"))
            rated_on = pc.cast(rated_at, pa.date32())
        else:
            return None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    bounds = pc.min_max(rated_on).as_py()
    if bounds["min"] < first or bounds["max"] > last:
        return None
    return rated_on, rated_at


def _fast(chunk: bytes, layout: CsvLayout):
    """Parse a clean chunk in bulk: a dict of columns, or None to go line by line."""
    if chunk.count(b"\r") != chunk.count(b"\r\n"):
        return None
    delimiter = layout.delimiter
    data = chunk
    if len(delimiter) > 1:
        if b"\t" in chunk:
            return None
        data, delimiter = chunk.replace(delimiter.encode(), b"\t"), "\t"
    names = [f"f{i}" for i in range(layout.n_fields)]
    types = {
        f"f{layout.index['user']}": pa.int32(),
        f"f{layout.index['movie']}": pa.int32(),
        f"f{layout.index['rating']}": pa.float64(),
    }
    if layout.has_dates:
        types[f"f{layout.index['date']}"] = pa.string()
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=one_row_per_line(delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                include_columns=list(types),
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    if table.num_rows != chunk.count(b"\n") or any(col.null_count for col in table.columns):
        return None
    user = table.column(f"f{layout.index['user']}").to_numpy()
    movie = table.column(f"f{layout.index['movie']}").to_numpy()
    rating = table.column(f"f{layout.index['rating']}").to_numpy()
    if not ((user > 0).all() and (movie > 0).all() and _valid_rating(rating).all()):
        return None
    if layout.has_dates:
        column = table.column(f"f{layout.index['date']}")
        if pc.any(pc.equal(pc.utf8_length(column), 0)).as_py():
            return None
        dates = _bulk_dates(column)
        if dates is None:
            return None
        rated_on, rated_at = dates
    else:
        rated_on = pa.nulls(len(user), pa.date32())
        rated_at = pa.nulls(len(user), pa.timestamp("s"))
    return {"user_id": user, "movie_id": movie, "rating": rating, "rated_on": rated_on, "rated_at": rated_at}


def parse_date(text: str) -> tuple[dt.date, dt.datetime | None]:
    """A date field: YYYY-MM-DD, ISO date and time, or Unix seconds; ValueError with the reason."""
    if _INT.match(text):
        at = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(text)) if int(text) < 10**11 else None
        if at is None:
            raise ValueError(f"timestamp {text} is not Unix seconds (too large)")
        on = at.date()
    elif _ISO_DATE.match(text):
        try:
            on, at = dt.date.fromisoformat(text), None
        except ValueError:
            raise ValueError(f"date {text!r} is not a valid date") from None
    elif _ISO_DATE_TIME.match(text):
        try:
            at = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"date {text!r} is not a valid date and time") from None
        if at.tzinfo is not None:
            at = at.astimezone(dt.UTC).replace(tzinfo=None)
        at = at.replace(microsecond=0)
        on = at.date()
    else:
        raise ValueError(f"date {text!r} is neither YYYY-MM-DD, an ISO date and time, nor Unix seconds")
    reason = date_window_reason(on, "csv")
    if reason:
        raise ValueError(reason)
    return on, at


def _slow(chunk: bytes, first_line: int, layout: CsvLayout, counts: FileCounts, ingestion: Ingestion):
    rows: dict[str, list] = {"user_id": [], "movie_id": [], "rating": [], "rated_on": [], "rated_at": [], "line": []}
    for number, text in text_lines(chunk, first_line, counts, ingestion, lambda: len(rows["line"])):
        fields = [_clean(f) for f in text.split(layout.delimiter)]
        if len(fields) != layout.n_fields:
            ingestion.reject(
                counts,
                number,
                text,
                f"expected {layout.n_fields} fields separated by {layout.delimiter!r}, found {len(fields)}",
            )
            continue
        try:
            values = {}
            for role in ("user", "movie", "rating", "date"):
                if role not in layout.index:
                    continue
                value = fields[layout.index[role]]
                if not value:
                    raise ValueError(f"empty {role} field (column {layout.columns[role]})")
                if role in ("user", "movie"):
                    if not _INT.match(value) or not 0 < int(value) < 2**31:
                        raise ValueError(f"{role} id {value!r} is not a positive integer")
                    values[role] = int(value)
                elif role == "rating":
                    if not _NUMBER.match(value):
                        raise ValueError(f"rating {value!r} is not a number")
                    if not _valid_rating(np.array([float(value)]))[0]:
                        raise ValueError(f"rating {value} is off the 0.5-5 scale (steps of 0.5)")
                    values[role] = float(value)
                else:
                    values[role] = parse_date(value)
        except ValueError as exc:
            ingestion.reject(counts, number, text, str(exc))
            continue
        rows["user_id"].append(values["user"])
        rows["movie_id"].append(values["movie"])
        rows["rating"].append(values["rating"])
        on, at = values.get("date", (None, None))
        rows["rated_on"].append(on)
        rows["rated_at"].append(at)
        rows["line"].append(number)
    return rows


def _table(columns: dict, lines: np.ndarray, file_id: int) -> pa.Table:
    n = len(lines)
    return pa.table(
        {
            "movie_id": pa.array(np.asarray(columns["movie_id"], dtype=np.int32)),
            "user_id": pa.array(np.asarray(columns["user_id"], dtype=np.int32)),
            "rating": pa.array(np.asarray(columns["rating"], dtype=np.float32)),
            "rated_on": pa.array(columns["rated_on"], type=pa.date32()),
            "rated_at": pa.array(columns["rated_at"], type=pa.timestamp("s")),
            "file_id": pa.array(np.full(n, file_id, dtype=np.int16)),
            "line": pa.array(lines.astype(np.int32)),
        }
    )


def _parse_pieces(
    chunk: bytes, first_line: int, layout: CsvLayout, counts: FileCounts, ingestion: Ingestion
) -> pa.Table:
    """A chunk that failed the bulk parse: each piece in bulk if it is clean, else line by line."""
    tables = []
    for piece, lines_before in split_pieces(chunk):
        start = first_line + lines_before
        parsed = _fast(piece, layout)
        if parsed is not None:
            numbers = np.arange(start, start + piece.count(b"\n"), dtype=np.int64)
        else:
            parsed = _slow(piece, start, layout, counts, ingestion)
            numbers = np.array(parsed.pop("line"), dtype=np.int64)
        tables.append(_table(parsed, numbers, counts.file_id))
        ingestion.check_reject_limit(counts, sum(t.num_rows for t in tables))
    return pa.concat_tables(tables)


def load_ratings(layout: CsvLayout, ingestion: Ingestion, chunk_bytes: int = CHUNK_BYTES) -> None:
    counts = ingestion.file(layout.ratings, "ratings")
    with open(layout.ratings, "rb") as raw_stream:
        stream = TextStream(raw_stream)
        line = 1
        if layout.header:
            first = stream.readline()
            counts.lines += 1
            counts.headers += 1
            counts.bytes += len(first)
            ingestion.progress.advance(len(first), 0)
            line = 2
        for chunk in iter_line_chunks(stream, chunk_bytes):
            n_lines = chunk.count(b"\n")
            parsed = _fast(chunk, layout)
            if parsed is not None:
                numbers = np.arange(line, line + n_lines, dtype=np.int64)
                table = _table(parsed, numbers, counts.file_id)
            else:
                table = _parse_pieces(chunk, line, layout, counts, ingestion)
            counts.lines += n_lines
            counts.bytes += len(chunk)
            ingestion.add_ratings(counts, table, dedupe_in_batch=False)
            ingestion.progress.advance(len(chunk), table.num_rows)
            ingestion.check_reject_limit()
            line += n_lines
        counts.bytes += stream.extra_bytes
    ingestion.resolve_duplicates_later(None)  # not grouped by movie


def load_titles(path: Path, ingestion: Ingestion) -> None:
    """MovieLens `movies.csv` when its header says so, else Netflix `movie_id,year,title`."""
    names = [_clean(f).lower() for f in _first_line(path).split(",")]
    if tuple(names) == movielens.MOVIES_CSV_HEADER:
        movielens.load_movies_csv(path, ingestion)
    else:
        netflix.load_movie_titles(path, ingestion)


def load(layout: CsvLayout, ingestion: Ingestion) -> None:
    load_ratings(layout, ingestion)
    if layout.titles is not None:
        load_titles(layout.titles, ingestion)


# --- suggestions ------------------------------------------------------------------------------------

_GUESSES = {
    "user": ("user", "cust", "rater", "member"),
    "movie": ("movie", "item", "film", "title_id", "product"),
    "rating": ("rating", "score", "stars", "rate"),
    "date": ("date", "time", "timestamp", "day"),
}


def suggest(path: Path) -> str | None:
    """`movierec ingest ... --format csv --columns ...` for a file that looks like ratings, else None."""
    try:
        first = _first_line(path)
    except OSError:
        return None
    delim = sniff_delimiter(first)
    if delim is None:
        return None
    fields = [_clean(f) for f in first.split(delim)]
    if not 3 <= len(fields) <= 12:
        return None
    delimiter = "" if delim == "," else f" --delimiter {'tab' if delim == chr(9) else repr(delim)}"
    if all(_NUMBER.match(f) for f in fields):
        return (
            f"movierec ingest {path} --format csv --columns user=1,movie=2,rating=3{delimiter}  "
            "(no header: check which column is which)"
        )
    found = {}
    for role, words in _GUESSES.items():
        for name in fields:
            if name not in found.values() and any(word in name.lower() for word in words):
                found[role] = name
                break
    if not all(role in found for role in REQUIRED):
        return None
    columns = ",".join(f"{role}={found[role]}" for role in ROLES if role in found)
    return f"movierec ingest {path} --format csv --columns {columns}{delimiter}"
