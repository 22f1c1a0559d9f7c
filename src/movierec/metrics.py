"""Evaluation metrics: rating accuracy and top-k ranking quality.

The dbt marts compute the same numbers in SQL, so every definition below is written out as a
formula and the two implementations are checked against each other. Conventions, for all
ranking metrics at cut-off k:

- Input: `recommendations` with columns user_id, movie_id, rank (1 = best; only rank <= k is
  read; a movie appears at most once per user) and `relevant` with columns user_id, movie_id
  (the held-out movies, all equally relevant: binary relevance; duplicates count once). Both may
  be a pandas DataFrame, a pyarrow Table or a dict of arrays.
- Users averaged over, U: the distinct user_ids of `relevant`, i.e. users with at least one
  relevant held-out movie (narrowed to `users` when given). Users without relevant movies are
  excluded because recall, nDCG and AP are undefined for them. A user in U without any
  recommendation counts with 0 hits. Recommendations of users outside U are ignored.
- Per user u: R_u the relevant set, L_u the top-k list, hit(u, r) = 1 if the movie at rank r is
  in R_u, h_u = sum_{r<=k} hit(u, r) the number of hits, m_u = min(|R_u|, k).
- Every ranking metric is the plain mean over U of a per-user value (macro average).

The per-user values:

    precision@k = h_u / k                      (k, not |L_u|: a short list is not rewarded)
    recall@k    = h_u / |R_u|
    hit_rate@k  = 1 if h_u > 0 else 0
    nDCG@k      = DCG_u / IDCG_u,  DCG_u = sum_{r<=k} hit(u, r) / log2(r + 1),
                                   IDCG_u = sum_{r=1..m_u} 1 / log2(r + 1)
    AP@k        = (1 / m_u) * sum_{r<=k} hit(u, r) * (hits at ranks 1..r) / r

MAP@k is normalized by m_u = min(|R_u|, k), so a perfect list scores 1 (the convention of
Spark's and Microsoft Recommenders' current `map_at_k`). Recommenders' older MAP, used in their
published ml-100k table and kept as their `map`, divides by |R_u| instead; pass
`normalize="relevant"` for that number. The log base of nDCG cancels in the ratio, so
Recommenders' natural-log nDCG is the same number.

Catalog metrics look at the recommendation rows only (rank <= k), pooled over all users given:

    catalog_coverage = |distinct recommended movies in the catalog| / |catalog|
    long_tail_share  = |rows whose movie is in the tail set| / |rows|
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa

RANKING_METRICS = ("precision", "recall", "ndcg", "map", "hit_rate")


# --- rating metrics --------------------------------------------------------------------------------


def rmse(predicted, actual) -> float:
    """Root mean squared error: sqrt(mean((predicted - actual)^2)) over all pairs."""
    diff = np.asarray(predicted, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return float(np.sqrt(np.mean(diff**2)))


def mae(predicted, actual) -> float:
    """Mean absolute error: mean(|predicted - actual|) over all pairs."""
    diff = np.asarray(predicted, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return float(np.mean(np.abs(diff)))


# --- ranking metrics -------------------------------------------------------------------------------


def precision_at_k(recommendations, relevant, k: int = 10, users=None) -> float:
    """Mean over users with relevant movies of h_u / k (see the module docstring)."""
    return ranking_metrics(recommendations, relevant, k, users)["precision"]


def recall_at_k(recommendations, relevant, k: int = 10, users=None) -> float:
    """Mean over users with relevant movies of h_u / |R_u|."""
    return ranking_metrics(recommendations, relevant, k, users)["recall"]


def ndcg_at_k(recommendations, relevant, k: int = 10, users=None) -> float:
    """Mean over users with relevant movies of DCG_u / IDCG_u: binary gains, 1/log2(rank + 1)
    discount, ideal DCG over the first min(|R_u|, k) ranks."""
    return ranking_metrics(recommendations, relevant, k, users)["ndcg"]


def map_at_k(
    recommendations, relevant, k: int = 10, users=None, normalize: Literal["min", "relevant"] = "min"
) -> float:
    """Mean over users with relevant movies of AP@k = (1/m_u) sum_{r<=k} hit(u, r) * precision@r.

    m_u = min(|R_u|, k) by default; `normalize="relevant"` uses m_u = |R_u| (Recommenders' `map`,
    the convention of their published ml-100k MAP column).
    """
    return ranking_metrics(recommendations, relevant, k, users, normalize)["map"]


def hit_rate_at_k(recommendations, relevant, k: int = 10, users=None) -> float:
    """Share of users with relevant movies who have at least one of them in their top k."""
    return ranking_metrics(recommendations, relevant, k, users)["hit_rate"]


def ranking_metrics(
    recommendations, relevant, k: int = 10, users=None, normalize: Literal["min", "relevant"] = "min"
) -> dict[str, float]:
    """precision, recall, ndcg, map and hit_rate at k in one pass (keys without the `_at_k`).

    Also returns `users`, the number of users averaged over. All values are 0.0 when no user
    has a relevant movie.
    """
    per_user = ranking_metrics_per_user(recommendations, relevant, k, users, normalize)
    out = {name: float(per_user[name].mean()) if len(per_user) else 0.0 for name in RANKING_METRICS}
    out["users"] = len(per_user)
    return out


def ranking_metrics_per_user(
    recommendations, relevant, k: int = 10, users=None, normalize: Literal["min", "relevant"] = "min"
) -> pd.DataFrame:
    """One row per evaluated user: user_id, relevant_count, hit_count and the per-user values of
    precision, recall, ndcg, map (AP) and hit_rate. The means of its columns are the metrics."""
    if k < 1:
        raise ValueError("k must be at least 1")
    if normalize not in ("min", "relevant"):
        raise ValueError("normalize must be 'min' or 'relevant'")
    rel_user, rel_movie = _columns(relevant, ("user_id", "movie_id"))
    rec_user, rec_movie, rec_rank = _columns(recommendations, ("user_id", "movie_id", "rank"))
    if users is not None:
        keep = np.isin(rel_user, np.asarray(users))
        rel_user, rel_movie = rel_user[keep], rel_movie[keep]

    # Users and their relevant sets, as (user code, movie code) pairs without duplicates.
    eval_users, rel_code = np.unique(rel_user, return_inverse=True)
    n_users = len(eval_users)
    movies = np.unique(np.concatenate([rel_movie, rec_movie]))
    rel_key = np.unique(rel_code.astype(np.int64) * len(movies) + np.searchsorted(movies, rel_movie))
    n_relevant = np.bincount(rel_key // max(len(movies), 1), minlength=n_users)

    # Top-k rows of evaluated users, and whether each is a hit.
    rec_rank = rec_rank.astype(np.int64)
    rec_code = np.searchsorted(eval_users, rec_user) if n_users else np.zeros(len(rec_user), dtype=np.int64)
    rec_code = np.minimum(rec_code, max(n_users - 1, 0))
    keep = (rec_rank >= 1) & (rec_rank <= k)
    if n_users:
        keep &= eval_users[rec_code] == rec_user
    else:
        keep &= False
    rec_code, rec_movie, rec_rank = rec_code[keep], rec_movie[keep], rec_rank[keep]
    rec_key = rec_code.astype(np.int64) * len(movies) + np.searchsorted(movies, rec_movie)
    hit = np.isin(rec_key, rel_key)
    hit_code, hit_rank = rec_code[hit], rec_rank[hit]

    hits = np.bincount(hit_code, minlength=n_users)
    discount = 1.0 / np.log2(np.arange(2, k + 2))  # discount[r - 1] = 1 / log2(r + 1)
    dcg = np.bincount(hit_code, weights=discount[hit_rank - 1], minlength=n_users)
    m = np.minimum(n_relevant, k)
    idcg = np.cumsum(discount)[np.maximum(m, 1) - 1]

    # AP: the j-th hit of a user (in rank order) at rank r adds j / r.
    order = np.lexsort((hit_rank, hit_code))
    hit_code, hit_rank = hit_code[order], hit_rank[order]
    first = np.searchsorted(hit_code, hit_code)  # position of the user's first hit
    hits_so_far = np.arange(len(hit_code)) - first + 1
    ap_sum = np.bincount(hit_code, weights=hits_so_far / hit_rank, minlength=n_users)
    ap_norm = m if normalize == "min" else n_relevant

    return pd.DataFrame(
        {
            "user_id": eval_users,
            "relevant_count": n_relevant,
            "hit_count": hits,
            "precision": hits / k,
            "recall": hits / np.maximum(n_relevant, 1),
            "ndcg": dcg / idcg,
            "map": ap_sum / np.maximum(ap_norm, 1),
            "hit_rate": (hits > 0).astype(np.float64),
        }
    )


# --- catalog metrics -------------------------------------------------------------------------------


def catalog_coverage(recommendations, catalog, k: int | None = None) -> float:
    """|distinct recommended movies that are in the catalog| / |catalog|.

    `catalog` is the array of movie ids that could be recommended (e.g. the training movies);
    rows with rank > k are ignored when k is given.
    """
    movie = _top_rows(recommendations, k)
    catalog = np.unique(np.asarray(catalog))
    if len(catalog) == 0:
        return 0.0
    return float(np.isin(np.unique(movie), catalog).sum() / len(catalog))


def long_tail_share(recommendations, tail_movie_ids, k: int | None = None) -> float:
    """|recommendation rows whose movie is in `tail_movie_ids`| / |recommendation rows|.

    Pooled over rows (with full top-k lists this equals the mean of the per-user shares);
    rows with rank > k are ignored when k is given; 0.0 when there are no rows.
    """
    movie = _top_rows(recommendations, k)
    if len(movie) == 0:
        return 0.0
    return float(np.isin(movie, np.asarray(tail_movie_ids)).mean())


def tail_movies(movie_id_per_rating, head_fraction: float = 0.2) -> np.ndarray:
    """The long tail: every rated movie except the most-rated `head_fraction` of them.

    Movies are ordered by rating count descending, then movie id ascending; the first
    ceil(head_fraction * n_movies) form the head. Input: one movie id per training rating.
    """
    movie_ids, counts = np.unique(np.asarray(movie_id_per_rating), return_counts=True)
    order = np.lexsort((movie_ids, -counts))
    n_head = int(np.ceil(head_fraction * len(movie_ids)))
    return np.sort(movie_ids[order[n_head:]])


# --- evaluation protocol ---------------------------------------------------------------------------


def split_per_user(user_id, train_fraction: float = 0.75, seed: int = 42) -> np.ndarray:
    """Per-user stratified random split: a boolean mask, True for the training rows.

    Each user's rows are shuffled (one uniform draw per row from `seed`, ordered within the
    user) and the first floor(train_fraction * n_u) go to training, the rest to test, as in
    Microsoft Recommenders' `python_stratified_split`. Deterministic for a given seed and row order.
    """
    user_id = np.asarray(user_id)
    draw = np.random.default_rng(seed).random(len(user_id))
    order = np.lexsort((draw, user_id))
    sorted_users = user_id[order]
    first = np.searchsorted(sorted_users, sorted_users, side="left")
    count = np.searchsorted(sorted_users, sorted_users, side="right") - first
    position = np.arange(len(order)) - first
    mask = np.empty(len(order), dtype=bool)
    mask[order] = position < np.floor(train_fraction * count)
    return mask


# --- helpers ---------------------------------------------------------------------------------------


def _top_rows(recommendations, k: int | None) -> np.ndarray:
    if k is None:
        (movie,) = _columns(recommendations, ("movie_id",))
        return movie
    movie, rank = _columns(recommendations, ("movie_id", "rank"))
    return movie[rank <= k]


def _columns(data, names: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """The named columns of a DataFrame, Arrow table or mapping, as numpy arrays."""
    if isinstance(data, pa.Table):
        return tuple(data.column(name).to_numpy() for name in names)
    if isinstance(data, (pd.DataFrame, Mapping)):
        return tuple(np.asarray(data[name]) for name in names)
    raise TypeError(f"expected a DataFrame, Arrow table or mapping with columns {names}, got {type(data)}")
