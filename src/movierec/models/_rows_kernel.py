"""Grouping the ratings by one side (users or movies) as one compiled pass (numba): a counting sort.

`RowBatches.build` (movierec.models.rows) needs the ratings in CSR order of one side, stable
(within a row, in the order given). A comparison or radix argsort of 100M keys, then a gather of
each column through the permutation, took about 10 s per side at the full size; a counting sort
that writes each rating straight to its place takes one pass to count and one to scatter. One
thread, without Python's global lock (`nogil`), compiled by `make setup`'s warm-up and cached.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _group(row, n_rows, other, pad, value):
    """(indptr, other_sorted, value_sorted): the pairs (row[j], other[j]) (and value[j]) grouped
    by row, stable; other_sorted and value_sorted have one more entry at the end, `pad` and 0
    (the padding entry of `RowBatches`). An empty `value` gives an empty value_sorted. Raises on
    a row outside [0, n_rows)."""
    n = row.shape[0]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    for j in range(n):
        r = row[j]
        if r < 0 or r >= n_rows:
            raise ValueError("a row index is outside [0, n_rows)")
        indptr[r + 1] += 1
    for r in range(n_rows):
        indptr[r + 1] += indptr[r]
    head = indptr[:-1].copy()
    other_sorted = np.empty(n + 1, dtype=np.int32)
    other_sorted[n] = pad
    has_value = value.shape[0] > 0
    value_sorted = np.zeros(n + 1 if has_value else 0, dtype=np.float32)
    for j in range(n):
        r = row[j]
        d = head[r]
        head[r] = d + 1
        other_sorted[d] = other[j]
        if has_value:
            value_sorted[d] = value[j]
    return indptr, other_sorted, value_sorted


def group_by_row(
    row: np.ndarray, n_rows: int, other: np.ndarray, pad: int, value: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The ratings (row[j], other[j], value[j]) in CSR order of `row`, stable: (indptr (n_rows + 1,
    int64), other (n + 1, int32, ending in `pad`), value (n + 1, float32, ending in 0) or None)."""
    row = np.ascontiguousarray(row, dtype=np.int32)
    other = np.ascontiguousarray(other, dtype=np.int32)
    if len(other) != len(row) or (value is not None and len(value) != len(row)):
        raise ValueError(
            f"group_by_row: {len(row)} rows, {len(other)} others, {0 if value is None else len(value)} values"
        )
    values = np.ascontiguousarray(value if value is not None else np.empty(0), dtype=np.float32)
    indptr, other_sorted, value_sorted = _group(row, int(n_rows), other, int(pad), values)
    return indptr, other_sorted, value_sorted if value is not None else None


@numba.njit(cache=True, nogil=True)
def _pair_order(first, n_first, second, n_second):
    """The permutation that sorts the pairs (first[j], second[j]) by first, then second, then j:
    two stable counting sorts (by second, then by first). Raises on an index outside its range."""
    n = first.shape[0]
    by_second = np.empty(n, dtype=np.int64)
    head = np.zeros(n_second + 1, dtype=np.int64)
    for j in range(n):
        s = second[j]
        if s < 0 or s >= n_second:
            raise ValueError("a second index is outside [0, n_second)")
        head[s + 1] += 1
    for s in range(n_second):
        head[s + 1] += head[s]
    for j in range(n):
        s = second[j]
        by_second[head[s]] = j
        head[s] += 1
    order = np.empty(n, dtype=np.int64)
    head = np.zeros(n_first + 1, dtype=np.int64)
    for j in range(n):
        f = first[j]
        if f < 0 or f >= n_first:
            raise ValueError("a first index is outside [0, n_first)")
        head[f + 1] += 1
    for f in range(n_first):
        head[f + 1] += head[f]
    for t in range(n):
        j = by_second[t]
        f = first[j]
        order[head[f]] = j
        head[f] += 1
    return order


def pair_order(first: np.ndarray, n_first: int, second: np.ndarray, n_second: int) -> np.ndarray:
    """np.lexsort((second, first)) for indices in [0, n_first) and [0, n_second), in linear time."""
    return _pair_order(
        np.ascontiguousarray(first, dtype=np.int32),
        int(n_first),
        np.ascontiguousarray(second, dtype=np.int32),
        int(n_second),
    )
