"""Small numpy building blocks shared by the models and the serving layer: looking ids up in a
sorted id array, and top-k with the house tie rule (equal scores: the smaller index, i.e. the
smaller movie_id, since movie indices follow id order)."""

from __future__ import annotations

import numpy as np


def index_of(sorted_ids: np.ndarray, ids) -> np.ndarray:
    """Position of each id in `sorted_ids` (ascending), -1 where it is absent."""
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        ids = ids.astype(np.int64)
    if len(sorted_ids) == 0:
        return np.full(len(ids), -1, dtype=np.int64)
    pos = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
    return np.where(sorted_ids[pos] == ids, pos, -1)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest finite scores, best first; equal scores by the smaller index. Fewer
    than k when fewer are finite (excluded entries are -inf)."""
    scores = np.asarray(scores)
    n_finite = int(np.isfinite(scores).sum())
    k = min(int(k), n_finite)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    kth = scores[part].min()
    candidates = np.flatnonzero(scores >= kth)  # every tie at the cut, then order (score desc, index)
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order[:k]].astype(np.int64)


def top_k_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise `top_k` of a (rows x columns) block: (indices (rows, k), valid (rows, k)). Rows with a tie
    at the cut or with fewer than k finite scores are redone one by one with `top_k`; their unused
    places hold index 0 and valid False."""
    n_rows, n = scores.shape
    k = min(int(k), n)
    if k <= 0 or n_rows == 0:
        return np.zeros((n_rows, 0), dtype=np.int64), np.zeros((n_rows, 0), dtype=bool)
    # the k largest end up in the last k columns (no negated copy of the block)
    part = np.argpartition(scores, n - k, axis=1)[:, n - k :] if k < n else np.tile(np.arange(n), (n_rows, 1))
    values = np.take_along_axis(scores, part, axis=1)
    kth = values.min(axis=1)
    order = np.lexsort((part, -values), axis=1)
    top = np.take_along_axis(part, order, axis=1).astype(np.int64)
    redo = ~np.isfinite(kth) | ((scores >= kth[:, None]).sum(axis=1) > k)
    valid = np.ones((n_rows, k), dtype=bool)
    for r in np.flatnonzero(redo):
        best = top_k(scores[r], k)
        top[r, :] = 0
        top[r, : len(best)] = best
        valid[r, :] = False
        valid[r, : len(best)] = True
    return top, valid
