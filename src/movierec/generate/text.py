"""Text formatting: the rating lines as 32-byte rows of four little-endian uint64 words and a mask."""

from __future__ import annotations

import datetime as dt

import numpy as np

from movierec.generate.shapes import FIRST_DAY, N_DAYS

#
# bytes  0.. 7  header "<movie>:\n" right-aligned (only on a movie's first row)
# bytes  8..15  customer id right-aligned, then ',' (or '\n' in probe.txt)
# bytes 16..23  star, ',', first 6 characters of the date
# bytes 24..31  last 4 characters of the date, '\n', 3 unused


def _pack_words(byte_rows: np.ndarray) -> np.ndarray:
    """(n, 8) uint8 -> (n,) little-endian uint64."""
    return np.ascontiguousarray(byte_rows, dtype=np.uint8).view("<u8").reshape(-1)


def _right_aligned(numbers: np.ndarray, terminator: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Words holding the decimal digits of `numbers` (< 10^(8-len(terminator)))
    right-aligned before `terminator`, and the matching mask words."""
    tail = len(terminator)
    width = 8 - tail
    numbers = numbers.astype(np.int64)
    rows = np.zeros((numbers.size, 8), dtype=np.uint8)
    for k in range(width):  # digit of 10^k sits at byte width-1-k
        rows[:, width - 1 - k] = 48 + (numbers // 10**k) % 10
    for i, ch in enumerate(terminator):
        rows[:, width + i] = ch
    digits = np.ones(numbers.size, dtype=np.int64)
    for k in range(1, width):
        digits += numbers >= 10**k
    mask = (np.arange(8)[None, :] >= (width - digits)[:, None]).astype(np.uint8)
    return _pack_words(rows), _pack_words(mask)


def _date_words() -> tuple[np.ndarray, np.ndarray, int]:
    """Words 2 and 3 for every (day, star) code ``day * 5 + star - 1``, and word 3's mask."""
    codes = np.arange(N_DAYS * 5)
    day, star = codes // 5, codes % 5 + 1
    text = np.array([(FIRST_DAY + dt.timedelta(days=d)).isoformat() for d in range(N_DAYS)], dtype="S10")
    date_bytes = text.view(np.uint8).reshape(N_DAYS, 10)[day]
    w2 = np.empty((codes.size, 8), dtype=np.uint8)
    w2[:, 0] = 48 + star
    w2[:, 1] = ord(",")
    w2[:, 2:8] = date_bytes[:, 0:6]
    w3 = np.zeros((codes.size, 8), dtype=np.uint8)
    w3[:, 0:4] = date_bytes[:, 6:10]
    w3[:, 4] = ord("\n")
    mask3 = int(_pack_words(np.array([[1, 1, 1, 1, 1, 0, 0, 0]]))[0])
    return _pack_words(w2), _pack_words(w3), mask3


_ALL_ONES = int(_pack_words(np.ones((1, 8), dtype=np.uint8))[0])


def _movie_header_words(n_movies: int) -> tuple[np.ndarray, np.ndarray]:
    """Words for "<movie_id>:\\n" right-aligned in 8 bytes (ids 1..n_movies, index 0-based)."""
    return _right_aligned(np.arange(1, n_movies + 1), b":\n")


def _format_block(
    header_rows: np.ndarray,
    header_movies: np.ndarray,
    header_words: tuple[np.ndarray, np.ndarray],
    cust_word: np.ndarray,
    cust_mask: np.ndarray,
    tail_words: list[tuple[np.ndarray | int, int]],
) -> np.ndarray:
    """Text bytes of a block of rows.

    `cust_word`/`cust_mask`: per-row word 1. `tail_words`: further (word array or constant,
    mask constant) columns. Rows `header_rows` get the header of `header_movies` in word 0.
    """
    n = cust_word.size
    ncols = 2 + len(tail_words)
    words = np.zeros((n, ncols), dtype="<u8")
    masks = np.zeros((n, ncols), dtype="<u8")
    words[header_rows, 0] = header_words[0][header_movies]
    masks[header_rows, 0] = header_words[1][header_movies]
    words[:, 1] = cust_word
    masks[:, 1] = cust_mask
    for j, (w, m) in enumerate(tail_words, start=2):
        words[:, j] = w
        masks[:, j] = m
    return words.view(np.uint8).reshape(n, 8 * ncols)[masks.view(np.bool_).reshape(n, 8 * ncols)]
