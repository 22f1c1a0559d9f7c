"""Parsers for the Netflix Prize files.

Rating-like files (`combined_data_*.txt`, `training_set/mv_*.txt`, `probe.txt`,
`qualifying.txt`) share one layout: a movie header line `123:` followed by one record per
line for that movie. The header has to be carried forward onto every record, which a SQL
window function does slowly at this size (hundreds of seconds for 10M lines). Here the file
is streamed in chunks of about 64 MB that end at a movie header, the header lines are found
with a byte search (a `:` appears nowhere else in valid data), the records between them are
parsed as CSV by pyarrow in one call, and each record gets its movie id by `numpy.repeat`.

A chunk that does not parse cleanly (wrong field count, a non-integer id, a rating off the
scale, an impossible date, a rating before any header, a blank line) is parsed again line by
line, so that every bad line is rejected with its file, line number, text and reason while
the good lines of the chunk are still loaded. An empty field is a bad line too (pyarrow
would read it as a null), and so is a date outside the Netflix window (`DATE_WINDOWS`).
Files may start with a UTF-8 byte order mark and may end their lines with LF, CRLF or CR.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from movierec.ingest.common import MOVIES_SCHEMA, FileCounts, Ingestion, date_window, date_window_reason
from movierec.ingest.reading import (
    TextStream,
    iter_line_chunks,
    numbered_lines,
    small_file_lines,
    split_pieces,
)

CHUNK_BYTES = 64 << 20
_HEADER = re.compile(rb"^\s*(\d+)\s*:\s*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d", re.ASCII)
_INT = re.compile(r"^\d+$", re.ASCII)


@dataclass(frozen=True)
class RecordSpec:
    """The fields of one record line under a movie header."""

    kind: str
    fields: tuple[str, ...]

    @property
    def arrow_types(self) -> dict[str, pa.DataType]:
        types = {"user_id": pa.int32(), "rating": pa.int8(), "rated_on": pa.date32()}
        return {name: types[name] for name in self.fields}

    @property
    def layout(self) -> str:
        return ",".join(self.fields)


RATINGS = RecordSpec("ratings", ("user_id", "rating", "rated_on"))
PROBE = RecordSpec("probe", ("user_id",))
QUALIFYING = RecordSpec("qualifying", ("user_id", "rated_on"))


class _MovieState:
    """Which movie the records belong to, carried across chunks and files of one kind."""

    def __init__(self) -> None:
        self.current: int | None = None
        self.seen: set[int] = set()
        self.split: set[int] = set()  # movies whose records are not in one contiguous block

    def header(self, movie_id: int) -> None:
        if movie_id in self.seen:
            self.split.add(movie_id)
        self.seen.add(movie_id)
        self.current = movie_id


# --- reading ------------------------------------------------------------------------------------


def _is_header(line: bytes) -> int | None:
    match = _HEADER.match(line)
    if match:
        movie_id = int(match.group(1))
        if 0 < movie_id < 2**31:
            return movie_id
    return None


def _last_header_start(buf: bytes) -> int:
    """Start offset of the last movie header line in `buf`, or -1."""
    end = len(buf)
    for _ in range(1000):
        colon = buf.rfind(b":", 0, end)
        if colon < 0:
            return -1
        start = buf.rfind(b"\n", 0, colon) + 1
        stop = buf.find(b"\n", colon)
        if stop >= 0 and _is_header(buf[start:stop]) is not None:
            return start
        end = start
    return -1


def iter_chunks(stream: BinaryIO, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Whole lines of `stream`, in pieces of about `chunk_bytes` that start at a movie header
    where possible. The last piece always ends with a newline."""
    return iter_line_chunks(stream, chunk_bytes, cut_at=_last_header_start)


# --- parsing one chunk ----------------------------------------------------------------------------


def _find_headers(chunk: bytes) -> list[tuple[int, int, int]]:
    """(line start, line end, movie id) of every header line; lines with a `:` that are not
    headers are left in the record text, where they fail the fast path."""
    headers = []
    pos = 0
    while True:
        colon = chunk.find(b":", pos)
        if colon < 0:
            return headers
        start = chunk.rfind(b"\n", 0, colon) + 1
        stop = chunk.find(b"\n", colon)
        movie_id = _is_header(chunk[start:stop])
        if movie_id is not None:
            headers.append((start, stop, movie_id))
        pos = stop + 1


def _fast_parse(chunk: bytes, first_line: int, spec: RecordSpec, state: _MovieState):
    """Parse a clean chunk in bulk. Returns (columns, header count), or None to go line by line."""
    headers = _find_headers(chunk)
    segments = []  # (movie id, start, stop)
    if headers and headers[0][0] > 0 or not headers:
        if state.current is None:
            return None  # records before any header: rejected line by line
        segments.append((state.current, 0, headers[0][0] if headers else len(chunk)))
    for i, (_start, stop, movie_id) in enumerate(headers):
        body_end = headers[i + 1][0] if i + 1 < len(headers) else len(chunk)
        segments.append((movie_id, stop + 1, body_end))

    bodies = [chunk[a:b] for _, a, b in segments]
    counts = np.array([body.count(b"\n") for body in bodies], dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        table = None
    else:
        try:
            table = pacsv.read_csv(
                io.BytesIO(b"".join(bodies)),
                read_options=pacsv.ReadOptions(column_names=list(spec.fields)),
                parse_options=pacsv.ParseOptions(quote_char=False, double_quote=False),
                convert_options=pacsv.ConvertOptions(
                    column_types=spec.arrow_types,
                    null_values=[],
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid:
            return None
        if table.num_rows != total:  # blank lines were skipped
            return None
        if any(col.null_count for col in table.columns):  # an empty field
            return None
        if pc.min(table.column("user_id")).as_py() <= 0:
            return None
        if "rating" in spec.fields:
            bounds = pc.min_max(table.column("rating")).as_py()
            if bounds["min"] < 1 or bounds["max"] > 5:
                return None
        if "rated_on" in spec.fields:
            first, last = date_window("netflix")
            bounds = pc.min_max(table.column("rated_on")).as_py()
            if bounds["min"] < first or bounds["max"] > last:
                return None

    # Line numbers: bodies run from one header to the next, so a segment's first record sits
    # one line (its header) after the previous segment's last record.
    has_header = np.ones(len(segments), dtype=np.int64)
    if len(segments) > len(headers):
        has_header[0] = 0  # the continuation of the previous chunk's movie has no header here
    seg_first_line = first_line + np.cumsum(has_header) + np.concatenate([[0], np.cumsum(counts)[:-1]])
    row_start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    lines = np.repeat(seg_first_line - row_start, counts) + np.arange(total, dtype=np.int64)
    movie_ids = np.repeat(np.array([m for m, _, _ in segments], dtype=np.int32), counts)

    if segments and (not headers or headers[0][0] > 0) and counts[0] > 0:
        state.split.add(state.current)  # this movie's block began in the previous chunk
    for _, _, movie_id in headers:
        state.header(movie_id)

    columns = {"movie_id": movie_ids, "line": lines}
    if table is not None:
        for name in spec.fields:
            columns[name] = table.column(name)
    else:
        for name, typ in spec.arrow_types.items():
            columns[name] = pa.array([], type=typ)
    return columns, len(headers)


_LABELS = {"user_id": "user id", "rating": "rating", "rated_on": "date"}


def _parse_field(name: str, text: str):
    if not text:
        raise ValueError(f"empty {_LABELS[name]} field")
    if name == "user_id":
        if not _INT.match(text) or int(text) <= 0 or int(text) >= 2**31:
            raise ValueError(f"user id {text!r} is not a positive integer")
        return int(text)
    if name == "rating":
        if not _INT.match(text):
            raise ValueError(f"rating {text!r} is not an integer")
        if not 1 <= int(text) <= 5:
            raise ValueError(f"rating {text} is off the 1-5 scale")
        return int(text)
    if name == "rated_on":
        if _DATE_TIME.match(text):
            raise ValueError(f"date {text!r} has a time of day: expected YYYY-MM-DD only")
        if not _DATE.match(text):
            raise ValueError(f"date {text!r} is not YYYY-MM-DD")
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"date {text!r} is not a valid date") from None
        reason = date_window_reason(value, "netflix")
        if reason:
            raise ValueError(reason)
        return value
    raise KeyError(name)


def _slow_parse(
    chunk: bytes, first_line: int, spec: RecordSpec, state: _MovieState, counts: FileCounts, ingestion: Ingestion
):
    """Parse line by line, rejecting each bad line with its reason. Returns (columns, header count)."""
    rows: dict[str, list] = {name: [] for name in ("movie_id", "line", *spec.fields)}
    headers = 0
    started_mid_block = state.current is not None
    for number, raw in numbered_lines(chunk, first_line, counts, ingestion, lambda: len(rows["line"])):
        text = raw.rstrip(b"\r")
        if not text.strip():
            counts.blank += 1
            continue
        if b":" in text:
            movie_id = _is_header(text)
            if movie_id is not None:
                headers += 1
                state.header(movie_id)
                started_mid_block = False
                continue
            if b"," not in text:  # a record has commas; a header has none
                reason = (
                    "movie header is not of the form <positive integer>:"
                    if text.rstrip().endswith(b":")
                    else f"neither a movie header (<movie id>:) nor a record ({spec.layout})"
                )
                ingestion.reject(counts, number, raw, reason)
                continue
        if state.current is None:
            ingestion.reject(counts, number, raw, "record before any movie header")
            continue
        if b"\r" in text:
            ingestion.reject(counts, number, raw, "carriage return inside the line (mixed line endings)")
            continue
        fields = text.decode("latin-1").split(",")
        if len(fields) != len(spec.fields):
            ingestion.reject(
                counts, number, raw, f"expected {len(spec.fields)} fields ({spec.layout}), found {len(fields)}"
            )
            continue
        try:
            values = [_parse_field(name, value.strip()) for name, value in zip(spec.fields, fields)]
        except ValueError as exc:
            ingestion.reject(counts, number, raw, str(exc))
            continue
        if started_mid_block:
            state.split.add(state.current)
        rows["movie_id"].append(state.current)
        rows["line"].append(number)
        for name, value in zip(spec.fields, values):
            rows[name].append(value)
    columns = {"movie_id": np.array(rows["movie_id"], dtype=np.int32), "line": np.array(rows["line"], dtype=np.int64)}
    for name, typ in spec.arrow_types.items():
        columns[name] = pa.array(rows[name], type=typ)
    return columns, headers


def _parse_pieces(
    chunk: bytes, first_line: int, spec: RecordSpec, state: _MovieState, counts: FileCounts, ingestion: Ingestion
):
    """A chunk that failed the bulk parse: each piece in bulk if it is clean, else line by line."""
    pieces = split_pieces(chunk)
    if len(pieces) == 1:
        return _slow_parse(chunk, first_line, spec, state, counts, ingestion)
    parts, headers = [], 0
    for piece, lines_before in pieces:
        parsed = _fast_parse(piece, first_line + lines_before, spec, state)
        if parsed is None:
            parsed = _slow_parse(piece, first_line + lines_before, spec, state, counts, ingestion)
        parts.append(parsed[0])
        headers += parsed[1]
        ingestion.check_reject_limit(counts, sum(len(part["line"]) for part in parts))
    columns = {}
    for name in parts[0]:
        values = [part[name] for part in parts]
        if isinstance(values[0], np.ndarray):
            columns[name] = np.concatenate(values)
        else:
            chunks = [c for v in values for c in (v.chunks if isinstance(v, pa.ChunkedArray) else [v])]
            columns[name] = pa.chunked_array(chunks, type=spec.arrow_types[name])
    return columns, headers


def _to_table(columns: dict, spec: RecordSpec, counts: FileCounts) -> pa.Table:
    n = len(columns["movie_id"])
    if spec is RATINGS:
        return pa.table(
            {
                "movie_id": columns["movie_id"],
                "user_id": columns["user_id"],
                "rating": pc.cast(columns["rating"], pa.float32()),
                "rated_on": columns["rated_on"],
                "rated_at": pa.nulls(n, pa.timestamp("s")),
                "file_id": np.full(n, counts.file_id, dtype=np.int16),
                "line": columns["line"].astype(np.int32),
            }
        )
    return pa.table({name: columns[name] for name in ("movie_id", *spec.fields)})


def parse_stream(
    stream: BinaryIO,
    spec: RecordSpec,
    counts: FileCounts,
    ingestion: Ingestion,
    state: _MovieState,
    chunk_bytes: int = CHUNK_BYTES,
) -> None:
    """Read one file of movie blocks into the ingestion."""
    line = 1
    stream = TextStream(stream)
    for chunk in iter_chunks(stream, chunk_bytes):
        n_lines = chunk.count(b"\n")
        parsed = _fast_parse(chunk, line, spec, state)
        if parsed is None:
            parsed = _parse_pieces(chunk, line, spec, state, counts, ingestion)
        columns, headers = parsed
        counts.lines += n_lines
        counts.bytes += len(chunk)
        counts.headers += headers
        table = _to_table(columns, spec, counts)
        if spec is RATINGS:
            ingestion.add_ratings(counts, table)
        else:
            counts.loaded += table.num_rows
            ingestion.add(spec.kind, table)
        ingestion.progress.advance(len(chunk), table.num_rows)
        ingestion.check_reject_limit()
        line += n_lines
    counts.bytes += stream.extra_bytes


# --- files ----------------------------------------------------------------------------------------


def load_movie_block_files(paths: list[Path], spec: RecordSpec, ingestion: Ingestion) -> None:
    """Load files of movie blocks (combined_data_*.txt, training_set/mv_*.txt, probe, qualifying)."""
    state = _MovieState()
    for path in paths:
        counts = ingestion.file(path, spec.kind)
        with open(path, "rb") as stream:
            parse_stream(stream, spec, counts, ingestion, state)
        state.current = None  # a new file starts with a header
    if spec is RATINGS and state.split:
        ingestion.resolve_duplicates_later(state.split)


def load_training_set_tar(path: Path, ingestion: Ingestion) -> None:
    """Load `training_set.tar` as shipped, streaming its members without unpacking to disk."""
    state = _MovieState()
    with tarfile.open(path, mode="r|*") as archive:
        for member in archive:
            if not member.isfile() or not Path(member.name).name.startswith("mv_"):
                continue
            counts = ingestion.file(path / member.name, RATINGS.kind)
            stream = archive.extractfile(member)
            parse_stream(stream, RATINGS, counts, ingestion, state)
            state.current = None
    if state.split:
        ingestion.resolve_duplicates_later(state.split)


def _is_titles_header(fields: list[str]) -> bool:
    """`Movie_ID,Year,Name` (Kaggle's Netflix_Dataset_Movie.csv) and the like: words, not an id and a year."""
    return (
        len(fields) == 3
        and not _INT.match(fields[0].strip())
        and fields[0].strip().replace("_", "").isalpha()
        and not _INT.match(fields[1].strip())
        and fields[1].strip().upper() != "NULL"
    )


def load_movie_titles(path: Path, ingestion: Ingestion) -> None:
    """`movie_id,year,title`: titles may contain commas (split on the first two only), years may be NULL.

    A first line of column names (`Movie_ID,Year,Name`) is counted as a header. The file is
    UTF-8 or latin-1 (`decode_lines`); in a UTF-8 file, a line that is not UTF-8 is rejected.
    """
    counts = ingestion.file(path, "movies")
    ids, titles, years = [], [], []
    first_seen: dict[int, int] = {}
    for number, line in small_file_lines(path, counts, ingestion):
        parts = line.split(",", 2)
        if number == 1 and _is_titles_header(parts):
            counts.headers += 1
            continue
        if len(parts) != 3:
            ingestion.reject(counts, number, line, f"expected 3 fields (movie_id,year,title), found {len(parts)}")
            continue
        movie_id, year, title = parts[0].strip(), parts[1].strip(), parts[2].strip()
        if not _INT.match(movie_id) or not 0 < int(movie_id) < 2**31:
            ingestion.reject(counts, number, line, f"movie id {movie_id!r} is not a positive integer")
            continue
        if year.upper() == "NULL" or year == "":
            year_value = None
        elif _INT.match(year) and 1800 <= int(year) <= 2100:
            year_value = int(year)
        else:
            ingestion.reject(counts, number, line, f"year {year!r} is neither a year nor NULL")
            continue
        if not title:
            ingestion.reject(counts, number, line, "empty title")
            continue
        if int(movie_id) in first_seen:
            ingestion.reject(
                counts, number, line, f"movie id {movie_id} already listed at line {first_seen[int(movie_id)]}"
            )
            continue
        first_seen[int(movie_id)] = number
        ids.append(int(movie_id))
        years.append(year_value)
        titles.append(title)
    counts.loaded = len(ids)
    table = pa.table(
        {
            "movie_id": pa.array(ids, pa.int32()),
            "title": pa.array(titles, pa.string()),
            "release_year": pa.array(years, pa.int16()),
            "genres": pa.nulls(len(ids), pa.string()),
        },
        schema=MOVIES_SCHEMA,
    )
    ingestion.add("movies", table)
