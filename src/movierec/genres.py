"""Did a factor model find the genres? Nearest neighbours in factor space against genre truth.

Built on numpy. For every movie with genres, its `n_neighbors` nearest other movies by cosine
similarity of their factor vectors; the score of the movie is the share of those neighbours that
share at least one genre with it. Its chance level is the share of all the other movies that
share a genre with it: what random neighbours would score. A model that groups movies by taste
scores well above chance wherever genres describe taste. The genres are never shown to a model:
this only reads its fitted factors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["NeighbourGenres", "neighbour_genre_shares"]


@dataclass
class NeighbourGenres:
    """Per movie (in the order given): the share of its nearest neighbours sharing a genre with it,
    and the share of all other movies that do (chance)."""

    neighbour_share: np.ndarray
    chance_share: np.ndarray
    n_neighbors: int


def neighbour_genre_shares(
    factors: np.ndarray, genres: np.ndarray, n_neighbors: int = 10, block: int = 1024
) -> NeighbourGenres:
    """`factors` (n, k) float; `genres` (n, g) bool, every row with at least one genre.

    Cosine neighbours are computed in row blocks (memory block * n); a movie is never its own
    neighbour; ties are broken by the lower row index. Rows with all-zero factors have no direction:
    they are compared by their zero similarity like any other row (callers should drop them).
    Raises ValueError when there are fewer than n_neighbors + 1 movies.
    """
    factors = np.asarray(factors, dtype=np.float64)
    genres = np.asarray(genres, dtype=bool)
    n = factors.shape[0]
    if genres.shape[0] != n:
        raise ValueError(f"{n} factor rows but {genres.shape[0]} genre rows")
    if n < n_neighbors + 1:
        raise ValueError(f"need more than {n_neighbors} movies, got {n}")
    if not genres.any(axis=1).all():
        raise ValueError("every movie needs at least one genre")
    norms = np.linalg.norm(factors, axis=1, keepdims=True)
    unit = factors / np.where(norms > 0, norms, 1.0)
    incidence = genres.astype(np.float32)
    # Chance: movies sharing a genre with each movie, through distinct genre sets (few) rather than n x n.
    patterns, inverse, pattern_counts = np.unique(genres, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    overlap = (patterns.astype(np.int32) @ patterns.T.astype(np.int32)) > 0
    chance = (overlap[inverse] @ pattern_counts - 1) / (n - 1)  # minus the movie itself
    neighbour = np.empty(n)
    for start in range(0, n, block):
        stop = min(n, start + block)
        sims = unit[start:stop] @ unit.T
        sims[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # not its own neighbour
        top = np.argpartition(-sims, n_neighbors - 1, axis=1)[:, :n_neighbors]
        # argpartition leaves ties at the boundary arbitrary: rank candidates exactly (similarity, then index)
        kth = np.take_along_axis(sims, top, axis=1).min(axis=1, keepdims=True)
        for row in range(stop - start):
            candidates = np.flatnonzero(sims[row] >= kth[row, 0])
            order = np.lexsort((candidates, -sims[row, candidates]))[:n_neighbors]
            top[row] = candidates[order]
        shared = (incidence[start:stop, None, :] * incidence[top]).sum(axis=2) > 0
        neighbour[start:stop] = shared.mean(axis=1)
    return NeighbourGenres(neighbour_share=neighbour, chance_share=chance, n_neighbors=n_neighbors)
