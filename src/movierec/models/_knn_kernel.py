"""Compiled kernels (numba) for the neighbourhood averages of kNN with baseline (`movierec.models.knn`).

For a key (a user for item-based kNN, a movie for user-based) the history is a row of a CSR
matrix: the candidate neighbours (column indices of the symmetric similarity matrix) and their
residuals e. For a target t the neighbourhood average is

    sum_{j in N} s_tj e_j / sum_{j in N} |s_tj|

over N, the `n_neighbors` candidates with the largest non-zero similarity s_tj to t (all of the
non-zero ones where there are fewer), or 0 where N has fewer than `min_neighbors` members (or
sum |s| is 0). Ties at the n-th largest value keep the earliest candidates in history order
(the CSR row's order: increasing index), so the result does not depend on how a selection
algorithm happens to reorder equal values.

Two entry points share one per-target routine (`_average`), so a held-out pair (`pair_averages`)
and the same pair in a ranking (`grid_averages`) give identical bits:

- `grid_averages`: every key against one list of targets (ranking). The similarities are read
  as the candidates' rows, `similarity[candidate, targets]` (contiguous when the targets are all
  the columns), a tile of targets at a time, transposed into a small scratch buffer.
- `pair_averages`: one target per key (held-out predictions), reading `similarity[target,
  candidates]`.

Each target costs one pass for the sums when the history has at most n candidates; otherwise
one pass mapping the similarities to order-preserving integer keys (zeros lowest), and when more
than n are non-zero, a radix selection of the n-th largest key (counting passes over a shrinking
set, no branch per key) and two passes for the sums. Single-threaded (no `parallel=True`) and
without Python's global lock (`nogil`): dbt runs two fits at once as threads of one process, one
core each. Compiled on first use, or by `make setup`'s warm-up, and cached on disk (`cache=True`).
"""

from __future__ import annotations

import numba
import numpy as np

TILE_ENTRIES = 1 << 16  # similarities per scratch tile (256 KB of float32): targets per tile = this / history length
MIN_TILE_TARGETS = 64  # but at least this many (a 256-byte run of each candidate's row) for long histories


@numba.njit(cache=True)
def _order_keys(sims, keys, nonzero):
    """keys[c]: an unsigned integer in the order of the float32 sims[c] (the sign bit set for a
    positive value, every bit flipped for a negative one), 0 for a zero similarity (below any
    non-zero key); the non-zero keys are also packed into `nonzero`. Returns their count."""
    bits = sims.view(np.uint32)
    m = 0
    for c in range(len(sims)):
        u = bits[c]
        key = u ^ ((np.uint32(0) - (u >> np.uint32(31))) | np.uint32(0x80000000))
        key = key if sims[c] != 0 else np.uint32(0)
        keys[c] = key
        nonzero[m] = key
        m += sims[c] != 0
    return m


@numba.njit(cache=True)
def _nth_largest_key(work, size, n):
    """The n-th largest of work[:size] (n <= size, the keys non-zero), bit by bit from the top
    (a radix selection): for each bit, count the keys at or above the prefix found so far with
    that bit set; keep the side holding the n-th and pack it to the front of `work` (only when
    both sides are non-empty). The counting passes are vectorized; nothing branches on a single
    key, where a comparison-based selection would be mispredicted about half the time on
    similarities in random order. Stops early once the n-th is the largest or smallest left."""
    t = np.uint32(0)
    for bit in range(31, -1, -1):
        if n == 1:
            return max(t, work[:size].max())
        if n == size:
            return max(t, work[:size].min())
        trial = t | np.uint32(1 << bit)
        count = 0
        for c in range(size):
            count += work[c] >= trial
        if count >= n:
            t = trial
            if count < size:  # keep the keys >= trial
                kept = 0
                for c in range(size):
                    work[kept] = work[c]
                    kept += work[c] >= trial
                size = kept
        elif count > 0:  # the count keys >= trial are all among the n largest: keep the others
            n -= count
            kept = 0
            for c in range(size):
                work[kept] = work[c]
                kept += work[c] < trial
            size = kept
    return t


@numba.njit(cache=True)
def _average(sims, residuals, n_neighbors, min_neighbors, keys, work):
    """sum s e / sum |s| over the n_neighbors largest non-zero sims (earliest first among ties at
    the n-th value), or 0 with fewer than min_neighbors of them; sims (float32) and residuals are
    one target's similarities to the history and the history's residuals, in history order;
    `keys` and `work` are uint32 scratch buffers at least as long. Written without data-dependent
    branches (conditional moves instead)."""
    h = len(sims)
    m = _order_keys(sims, keys, work) if h > n_neighbors else n_neighbors  # no selection when h <= n
    weighted = 0.0
    total = 0.0
    if m <= n_neighbors:  # every non-zero one counts; the zeros add nothing
        count = 0
        for c in range(h):
            s = np.float64(sims[c])
            weighted += s * residuals[c]
            total += abs(s)
            count += s != 0
    else:
        kth = _nth_largest_key(work, m, n_neighbors)  # the key of the n-th largest non-zero similarity
        ties = n_neighbors  # what is left of n after the strictly larger ones: taken among the ties
        for c in range(h):
            ties -= keys[c] > kth
        for c in range(h):
            tie = (keys[c] == kth) & (ties > 0)
            ties -= tie
            s = np.float64(sims[c]) if (keys[c] > kth) | tie else 0.0
            weighted += s * residuals[c]
            total += abs(s)
        count = n_neighbors
    if total > 0 and count >= min_neighbors:
        return weighted / total
    return 0.0


@numba.njit(cache=True, nogil=True)
def _grid(similarity, indptr, indices, residuals, keys, targets, n_neighbors, min_neighbors, out):
    longest = 1
    for key in keys:
        longest = max(longest, indptr[key + 1] - indptr[key])
    order = np.empty(longest, dtype=np.uint32)
    work = np.empty(longest, dtype=np.uint32)
    buffer = np.empty(max(TILE_ENTRIES, MIN_TILE_TARGETS * longest), dtype=similarity.dtype)
    for row in range(len(keys)):
        lo, hi = indptr[keys[row]], indptr[keys[row] + 1]
        h = hi - lo
        if h == 0:
            continue  # out is zero there
        history = residuals[lo:hi]
        width = max(MIN_TILE_TARGETS, TILE_ENTRIES // h)  # targets per tile, for this history's length
        tile = buffer[: width * h].reshape((width, h))
        for start in range(0, len(targets), width):
            stop = min(start + width, len(targets))
            for c in range(h):  # the candidate's row, read along the targets
                line = similarity[indices[lo + c]]
                for j in range(start, stop):
                    tile[j - start, c] = line[targets[j]]
            for j in range(start, stop):
                out[row, j] = _average(tile[j - start], history, n_neighbors, min_neighbors, order, work)


@numba.njit(cache=True, nogil=True)
def _pairs(similarity, indptr, indices, residuals, keys, targets, n_neighbors, min_neighbors, out):
    longest = 1
    for key in keys:
        longest = max(longest, indptr[key + 1] - indptr[key])
    order = np.empty(longest, dtype=np.uint32)
    work = np.empty(longest, dtype=np.uint32)
    sims = np.empty(longest, dtype=similarity.dtype)
    for p in range(len(keys)):
        lo, hi = indptr[keys[p]], indptr[keys[p] + 1]
        line = similarity[targets[p]]
        for c in range(hi - lo):
            sims[c] = line[indices[lo + c]]
        out[p] = _average(sims[: hi - lo], residuals[lo:hi], n_neighbors, min_neighbors, order, work)


def _checked(similarity, indptr, indices, residuals, keys, targets, n_neighbors):
    if n_neighbors < 1:
        raise ValueError("n_neighbors must be at least 1")
    similarity = np.ascontiguousarray(similarity)
    if similarity.ndim != 2 or similarity.shape[0] != similarity.shape[1]:
        raise ValueError(f"the similarity matrix must be square, got shape {similarity.shape}")
    if similarity.dtype != np.float32:  # the models' similarities are float32; anything else is copied
        similarity = similarity.astype(np.float32)
    keys = np.ascontiguousarray(keys, dtype=np.int64)
    targets = np.ascontiguousarray(targets, dtype=np.int64)
    if len(targets) and (targets.min() < 0 or targets.max() >= len(similarity)):
        raise IndexError(f"targets must index the {len(similarity)} rows of the similarity matrix")
    if len(keys) and (keys.min() < 0 or keys.max() >= len(indptr) - 1):
        raise IndexError(f"keys must index the {len(indptr) - 1} histories")
    residuals = np.ascontiguousarray(residuals, dtype=np.float64)
    return similarity, np.ascontiguousarray(indptr), np.ascontiguousarray(indices), residuals, keys, targets


def grid_averages(
    similarity: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    residuals: np.ndarray,
    keys: np.ndarray,
    targets: np.ndarray,
    n_neighbors: int,
    min_neighbors: int = 1,
) -> np.ndarray:
    """The neighbourhood average (module docstring) of every key against every target:
    (len(keys), len(targets)) float64.

    `similarity` is the symmetric square similarity matrix (float32, C-ordered, else copied); the
    history of key k is indices[indptr[k]:indptr[k + 1]] (rows of `similarity`) with residuals
    residuals[indptr[k]:indptr[k + 1]] (a CSR matrix's indptr, indices and data)."""
    similarity, indptr, indices, residuals, keys, targets = _checked(
        similarity, indptr, indices, residuals, keys, targets, n_neighbors
    )
    out = np.zeros((len(keys), len(targets)))
    if len(keys) and len(targets):
        _grid(similarity, indptr, indices, residuals, keys, targets, int(n_neighbors), int(min_neighbors), out)
    return out


def pair_averages(
    similarity: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    residuals: np.ndarray,
    keys: np.ndarray,
    targets: np.ndarray,
    n_neighbors: int,
    min_neighbors: int = 1,
) -> np.ndarray:
    """The neighbourhood average (module docstring) of keys[p] at targets[p], for each pair p:
    float64 of length len(keys). The same bits as `grid_averages` gives for that key and target."""
    if len(keys) != len(targets):
        raise ValueError(f"keys and targets must pair up, got {len(keys)} and {len(targets)}")
    similarity, indptr, indices, residuals, keys, targets = _checked(
        similarity, indptr, indices, residuals, keys, targets, n_neighbors
    )
    out = np.zeros(len(keys))
    if len(keys):
        _pairs(similarity, indptr, indices, residuals, keys, targets, int(n_neighbors), int(min_neighbors), out)
    return out
