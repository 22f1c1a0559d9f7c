"""Reading raw files in pieces: whole-line chunks of a stream, pieces of a chunk that failed the
bulk parse, numbered (and decoded) lines for the line-by-line parsers, the lines of a small file
read whole (the movies files), and the text decoding
(UTF-8, else latin-1; line endings and byte-order marks) that every format shares."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pyarrow.csv as pacsv

if TYPE_CHECKING:
    from pathlib import Path

    from movierec.ingest.common import FileCounts, Ingestion


UTF8_BOM = codecs.BOM_UTF8
CHECK_EVERY = 20_000  # lines parsed one by one between two checks of the reject limit
PIECE_BYTES = 256 << 10  # a chunk that fails the bulk parse is retried in pieces of this size


def split_pieces(chunk: bytes, piece_bytes: int | None = None) -> list[tuple[bytes, int]]:
    """`chunk` (whole lines) cut at newlines into pieces of about `piece_bytes`, each with the number
    of lines before it: a chunk with a few bad lines is parsed again piece by piece, in bulk where
    the piece is clean, so that one bad line costs a piece read line by line, not the whole chunk."""
    piece_bytes = piece_bytes or PIECE_BYTES
    pieces = []
    start, lines_before = 0, 0
    while start < len(chunk):
        stop = chunk.find(b"\n", min(start + piece_bytes, len(chunk)) - 1)
        stop = len(chunk) if stop < 0 else stop + 1
        piece = chunk[start:stop]
        pieces.append((piece, lines_before))
        lines_before += piece.count(b"\n")
        start = stop
    return pieces


def iter_line_chunks(stream, chunk_bytes: int, carry: bytes = b"", cut_at=None) -> Iterator[bytes]:
    """Whole lines of `stream` in pieces of about `chunk_bytes` (after `carry`, bytes already read
    from it). With `cut_at(buf)`, a piece ends at the offset it returns when that is > 0 (netflix:
    before the last movie header, so a movie's block is not split), else after the last newline.
    The last piece always ends with a newline."""
    while True:
        data = stream.read(chunk_bytes)
        if not data:
            if carry:
                yield carry if carry.endswith(b"\n") else carry + b"\n"
            return
        buf = carry + data if carry else data
        cut = cut_at(buf) if cut_at is not None else 0
        if cut <= 0:
            cut = buf.rfind(b"\n") + 1
        if cut <= 0:  # no complete line yet
            carry = buf
            continue
        yield buf[:cut]
        carry = buf[cut:]


def numbered_lines(
    chunk: bytes, first_line: int, counts: FileCounts, ingestion: Ingestion, kept: Callable[[], int]
) -> Iterator[tuple[int, bytes]]:
    """The lines of a chunk (whole lines) with their line numbers, for the line-by-line parsers that
    reject each bad line with its reason. Every CHECK_EVERY lines the reject limit is checked, with
    `kept()` the rows kept so far, so that a wrong layout stops within its first chunk."""
    lines = chunk.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for offset, raw in enumerate(lines):
        if offset and offset % CHECK_EVERY == 0:
            ingestion.check_reject_limit(counts, kept())
        yield first_line + offset, raw


def text_lines(
    chunk: bytes, first_line: int, counts: FileCounts, ingestion: Ingestion, kept: Callable[[], int]
) -> Iterator[tuple[int, str]]:
    """`numbered_lines` decoded (`decode_text`, a trailing carriage return dropped), for the text
    parsers (MovieLens, csv): blank lines are counted and skipped, a line with a carriage return
    inside is rejected."""
    for number, raw in numbered_lines(chunk, first_line, counts, ingestion, kept):
        text = decode_text(raw.rstrip(b"\r"))
        if not text.strip():
            counts.blank += 1
            continue
        if "\r" in text:
            ingestion.reject(counts, number, text, "carriage return inside the line (mixed line endings)")
            continue
        yield number, text


def small_file_lines(path: Path, counts: FileCounts, ingestion: Ingestion) -> Iterator[tuple[int, str]]:
    """(line number, text without its \\r) of every line of a small file read whole (a movies
    file), UTF-8 or latin-1 (`decode_lines`), that is not blank; every line is counted here, a
    blank one as blank, and a line that is not UTF-8 in a UTF-8 file is rejected here."""
    data = path.read_bytes()
    counts.bytes = len(data)
    lines, raw_lines, _ = decode_lines(data)
    for number, text in enumerate(lines, start=1):
        counts.lines += 1
        if text is None:
            raw = raw_lines[number - 1].rstrip(b"\r")
            ingestion.reject(
                counts, number, raw.decode("latin-1"), f"not UTF-8 like the rest of the file: {utf8_error(raw)}"
            )
            continue
        line = text.rstrip("\r")
        if not line.strip():
            counts.blank += 1
            continue
        yield number, line


def one_row_per_line(delimiter: str) -> pacsv.ParseOptions:
    """pyarrow's csv options for the bulk parse of a chunk of delimited lines: one line, one row (no
    quoting, escapes, values across lines or skipped empty lines), so a chunk that breaks any of
    that fails whole and is read again line by line."""
    return pacsv.ParseOptions(
        delimiter=delimiter,
        quote_char=False,
        double_quote=False,
        escape_char=False,
        newlines_in_values=False,
        ignore_empty_lines=False,
    )


def decode_text(data: bytes) -> str:
    """UTF-8 if the bytes are valid UTF-8, else latin-1 (ml-100k, ml-1m, the original Netflix files)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class TextStream:
    """A binary file read in blocks with its line endings made `\n`-terminated lines.

    Strips a UTF-8 byte order mark, and turns a file with classic Mac line endings (CR only,
    no LF in its first block) into LF lines, so that such a file is read line by line instead
    of as one huge line. CRLF files are passed through (the parsers drop the CR).
    """

    PROBE_BYTES = 1 << 16

    def __init__(self, raw):
        self.raw = raw
        self.bom = False
        self.cr_only = False
        self._buf = b""
        self._first = True

    def _read_raw(self, n: int) -> bytes:
        data = self.raw.read(n)
        if self._first:
            self._first = False
            while len(data) < 4 and data:  # enough bytes to see the BOM
                more = self.raw.read(n)
                if not more:
                    break
                data += more
            if data.startswith(UTF8_BOM):
                data = data[len(UTF8_BOM) :]
                self.bom = True
            head = data[: self.PROBE_BYTES]
            self.cr_only = b"\r" in head and b"\n" not in head
        if self.cr_only:
            data = data.replace(b"\r", b"\n")
        return data

    def read(self, n: int = -1) -> bytes:
        if self._buf:
            data, self._buf = self._buf, b""
            if n is None or n < 0:
                return data + self._read_raw(-1)
            return data
        return self._read_raw(-1 if n is None else n)

    def readline(self) -> bytes:
        while True:
            cut = self._buf.find(b"\n")
            if cut >= 0:
                line, self._buf = self._buf[: cut + 1], self._buf[cut + 1 :]
                return line
            more = self._read_raw(self.PROBE_BYTES)
            if not more:
                line, self._buf = self._buf, b""
                return line
            self._buf += more

    @property
    def extra_bytes(self) -> int:
        """Bytes of the file not handed on (the BOM)."""
        return len(UTF8_BOM) if self.bom else 0


def decode_lines(data: bytes) -> tuple[list[str | None], list[bytes], str]:
    """The lines of a small text file (titles) decoded, the raw lines, and the encoding used.

    UTF-8 when the file is valid UTF-8; latin-1 (the original Netflix and MovieLens files) when
    it is not and no line holds UTF-8 beyond ASCII; otherwise the file is taken as UTF-8 with a
    few broken lines, which come back as None (to be rejected) instead of turning every accent of
    the file into mojibake. A BOM is dropped; CR-only line endings count as line breaks.
    """
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    if b"\r" in data and b"\n" not in data:
        data = data.replace(b"\r", b"\n")
    raw_lines = data.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    try:
        data.decode("utf-8")
        return [line.decode("utf-8") for line in raw_lines], raw_lines, "utf-8"
    except UnicodeDecodeError:
        pass
    utf8_lines, broken = 0, 0
    decoded: list[str | None] = []
    for line in raw_lines:
        try:
            text = line.decode("utf-8")
            decoded.append(text)
            utf8_lines += not line.isascii()
        except UnicodeDecodeError:
            decoded.append(None)
            broken += 1
    if utf8_lines > broken:
        return decoded, raw_lines, "utf-8"
    return [line.decode("latin-1") for line in raw_lines], raw_lines, "latin-1"


def utf8_error(raw: bytes) -> str:
    """Where a line stops being UTF-8, for a reject reason."""
    try:
        raw.decode("utf-8")
        return "valid UTF-8"
    except UnicodeDecodeError as exc:
        return f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1} is not UTF-8"
