"""Row-wise top-k as one compiled pass (numba): the k largest finite scores of each row, best first,
equal scores by the smaller column index (the house tie rule, `movierec.arrays.top_k`).

`top_k_rows` ranked every user's 17,770 scores with `np.argpartition`, then sorted the k and counted
ties at the cut in another pass over the block: about half of `batch_user_recommendations` at the
full size (8.5 billion scores). Here each row is read once, keeping its k best in a small sorted
list; a score enters only when it beats the k-th, so nearly every score costs one comparison.
Reading the columns in order and letting a score pass only a strictly smaller one keeps, among
equal scores, the smaller index, so ties need no second pass. One thread, without Python's
global lock (`nogil`): the serving blocks run on threads. Compiled by `make setup`'s warm-up and
cached on disk.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def top_k_into(scores, k: int, top, count) -> None:
    """For each row of `scores` (rows x n, float32 or float64): top[r, :count[r]] = the columns of
    its k largest finite scores, best first, equal scores by the smaller column; count[r] = how
    many there are (fewer than k when fewer are finite); the rest of top[r] is 0. NaN and
    infinite scores are never taken."""
    n_rows, n = scores.shape
    if k <= 0:
        return
    best = np.empty(k, dtype=np.float64)
    for r in range(n_rows):
        row = scores[r]
        filled = 0
        floor = -np.inf  # the k-th best score once k are kept
        for j in range(n):
            x = row[j]
            if not x > floor:  # also NaN; equal to the k-th: the smaller index already holds it
                continue
            if x == np.inf or x == -np.inf:
                continue
            # insert x after every kept score >= x (equal scores keep their smaller indices first)
            place = filled if filled < k else k - 1
            while place > 0 and best[place - 1] < x:
                best[place] = best[place - 1]
                top[r, place] = top[r, place - 1]
                place -= 1
            best[place] = x
            top[r, place] = j
            if filled < k:
                filled += 1
            if filled == k:
                floor = best[k - 1]
        for place in range(filled, k):
            top[r, place] = 0
        count[r] = filled


def top_k_rows_compiled(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(top (rows, k) int64, valid (rows, k) bool) of a C-contiguous float32 or float64 block."""
    scores = np.ascontiguousarray(scores)
    if scores.dtype not in (np.float32, np.float64):
        scores = scores.astype(np.float64)
    top = np.empty((scores.shape[0], k), dtype=np.int64)
    count = np.empty(scores.shape[0], dtype=np.int64)
    top_k_into(scores, int(k), top, count)
    return top, np.arange(k)[None, :] < count[:, None]
