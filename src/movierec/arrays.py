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
    than k when fewer are finite (excluded entries are -inf; NaN and +inf are never taken either)."""
    scores = np.asarray(scores)
    finite = np.isfinite(scores)
    if not finite.all():
        scores = np.where(finite, scores, -np.inf)
    n_finite = int(finite.sum())
    k = min(int(k), n_finite)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    kth = scores[part].min()
    candidates = np.flatnonzero(scores >= kth)  # every tie at the cut, then order (score desc, index)
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order[:k]].astype(np.int64)


def top_k_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise `top_k` of a (rows x columns) block: (indices (rows, k), valid (rows, k)). Rows with
    fewer than k finite scores hold index 0 and valid False in their unused places. One compiled
    pass over the block (movierec.models._topk_kernel), the same answer as `top_k` row by row."""
    from movierec.models._topk_kernel import top_k_rows_compiled

    n_rows, n = scores.shape
    k = min(int(k), n)
    if k <= 0 or n_rows == 0:
        return np.zeros((n_rows, 0), dtype=np.int64), np.zeros((n_rows, 0), dtype=bool)
    return top_k_rows_compiled(scores, k)
