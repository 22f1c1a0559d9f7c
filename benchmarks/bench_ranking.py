"""Benchmark: top-10 recommendation on MovieLens 100K with Microsoft Recommenders' protocol.

Protocol (as in the Recommenders ml-100k benchmark table): u.data split per user at random,
75% of each user's ratings to train and 25% to test (`metrics.split_per_user`, seed 42); each
user gets the top 10 among the movies they did not rate in train; every held-out movie is
relevant, whatever its rating. Metrics are `movierec.metrics` (MAP@10 normalized by
min(|relevant|, 10); the `MAP/|R|` column divides by |relevant| instead, the convention of the
MAP column in Recommenders' published table).

Hyperparameters are tuned on a validation split carved out of the training part only (the
same per-user 75/25 split of train, seed 43): `--tune` fits every configuration of a small grid
on the 75%, scores nDCG@10 on the 25%, keeps the best per model and reports those on the test
part. Without `--tune` the configurations chosen that way (CHOSEN below) are used directly.

    .venv/bin/python benchmarks/bench_ranking.py          # test table with the chosen settings
    .venv/bin/python benchmarks/bench_ranking.py --tune   # validation grid, then the test table
    .venv/bin/python benchmarks/bench_ranking.py --tune --models "implicit ALS" "implicit BPR"

Peers in the same run: `implicit` (Ben Frederickson's library, 0.7.3, requirements-bench.txt,
installed by `make bench`) fits its ALS (Hu, Koren & Volinsky 2008, the model our iALS also
implements) and BPR (Rendle et al. 2009) on exactly the same training ratings (every rating a
positive), and the same `Recommender.recommend` turns their factors into top-10 lists with seen
movies excluded, so the protocol and the metrics code are shared. They are tuned on the same
validation split with a grid of the same size class, and run with one thread like ours. Their
rows are skipped with a message when `implicit` is not installed.

BLAS runs single-threaded unless OPENBLAS_NUM_THREADS is set: on a shared 2-core machine the
small batched solves are faster that way.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from movierec.metrics import (  # noqa: E402
    catalog_coverage,
    long_tail_share,
    map_at_k,
    ranking_metrics,
    ranking_metrics_per_user,
    split_per_user,
    tail_movies,
)
from movierec.models.base import Recommender  # noqa: E402
from movierec.models.data import Ratings  # noqa: E402
from movierec.models.knn import ItemKNN, UserKNN  # noqa: E402
from movierec.models.popularity import DampedPopularity, Popularity  # noqa: E402
from movierec.models.topn import EASE, ImplicitALS  # noqa: E402
from movierec.uncertainty import UserStats, bootstrap  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "movielens" / "ml-100k"
K = 10
SPLIT_SEED, VALIDATION_SEED = 42, 43


class ImplicitPeer(Recommender):
    """Adapter: a model of the `implicit` library fitted on the binary user x movie matrix of the
    training ratings, scored as user factors . item factors (BPR's item bias rides in its factors)."""

    def __init__(self, kind: str, **params) -> None:
        super().__init__()
        self.kind, self.params = kind, params
        self.name = f"implicit_{kind}"

    def hyperparameters(self) -> dict:
        return dict(self.params)

    def _fit(self, train: Ratings) -> None:
        from implicit.cpu.als import AlternatingLeastSquares
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        make = AlternatingLeastSquares if self.kind == "als" else BayesianPersonalizedRanking
        model = make(num_threads=1, random_state=0, **self.params)
        model.fit(train.csr(np.ones(len(train), dtype=np.float32)), show_progress=False)
        self.user_factors = np.asarray(model.user_factors)
        self.item_factors = np.asarray(model.item_factors)

    def score_users(self, user_index: np.ndarray) -> np.ndarray:
        return self.user_factors[user_index] @ self.item_factors.T


def implicit_available() -> bool:
    try:
        import implicit  # noqa: F401
    except ImportError:
        print(
            "[bench] the peer library `implicit` is not installed: its rows are skipped "
            "(.venv/bin/pip install -r requirements-bench.txt, or make bench)",
            file=sys.stderr,
        )
        return False
    return True


# name -> (constructor, grid of keyword arguments tried with --tune)
GRID: dict[str, tuple[Callable[..., Recommender], list[dict]]] = {
    "Popularity": (Popularity, [{}]),
    "DampedPopularity": (DampedPopularity, [{"damping": m} for m in (1, 10, 100, 1000, 10000)]),
    "ItemKNN": (
        ItemKNN,
        [{"n_neighbors": k, "min_neighbors": m} for k, m in itertools.product((20, 40, 80), (1, 5, 20))],
    ),
    "UserKNN": (
        UserKNN,
        [{"n_neighbors": k, "min_neighbors": m} for k, m in itertools.product((20, 40, 80), (1, 5, 20))],
    ),
    "EASE": (EASE, [{"reg": reg} for reg in (100, 250, 500, 1000, 2000)]),
    "iALS": (
        ImplicitALS,
        [
            {"n_factors": f, "reg": reg, "unobserved_weight": a}
            for f, reg, a in itertools.product((32, 64, 128), (0.01, 0.02, 0.03, 0.05), (0.05, 0.1, 0.2))
        ],
    ),
    "implicit ALS": (
        lambda **p: ImplicitPeer("als", **p),
        [
            {"factors": f, "regularization": reg, "alpha": a, "iterations": 15}
            for f, reg, a in itertools.product(
                (8, 16, 32, 64, 128), (0.1, 1.0, 10.0, 30.0, 100.0, 300.0), (2.0, 5.0, 10.0)
            )
        ],
    ),
    "implicit BPR": (
        lambda **p: ImplicitPeer("bpr", **p),
        [
            {"factors": f, "learning_rate": lr, "regularization": reg, "iterations": it}
            for f, lr, reg, it in itertools.product((64, 128), (0.01, 0.05), (0.001, 0.01), (100, 300))
        ],
    ),
}
PEERS = {"implicit ALS", "implicit BPR"}

# The winners of `--tune` (validation nDCG@10 in brackets; see movierec.models.topn's docstring).
CHOSEN: dict[str, dict] = {
    "Popularity": {},  # (0.167)
    "DampedPopularity": {"damping": 10000},  # (0.132) grid edge: -> popularity-like
    "ItemKNN": {"n_neighbors": 80, "min_neighbors": 20},  # (0.068)
    "UserKNN": {"n_neighbors": 80, "min_neighbors": 20},  # (0.074)
    "EASE": {"reg": 500},  # (0.258)
    "iALS": {"n_factors": 64, "reg": 0.03, "unobserved_weight": 0.1},  # (0.267)
    "implicit ALS": {"factors": 16, "regularization": 30.0, "alpha": 5.0, "iterations": 15},  # (0.264)
    "implicit BPR": {"factors": 128, "learning_rate": 0.01, "regularization": 0.01, "iterations": 100},  # (0.166)
}


def load_ml100k(folder: Path) -> pd.DataFrame:
    return pd.read_csv(
        folder / "u.data",
        sep="\t",
        names=["user_id", "movie_id", "rating", "timestamp"],
        dtype={"user_id": np.int32, "movie_id": np.int32, "rating": np.float64},
    )


def to_ratings(frame: pd.DataFrame) -> Ratings:
    return Ratings.from_ids(frame.user_id.to_numpy(), frame.movie_id.to_numpy(), frame.rating.to_numpy())


def evaluate(model: Recommender, train: pd.DataFrame, held_out: pd.DataFrame) -> dict:
    """Fit on `train`, recommend top K for every held-out user, and score against `held_out`."""
    model.fit(to_ratings(train))
    user, rank, movie, _ = model.recommend(np.unique(held_out.user_id.to_numpy()), k=K)
    recs = {"user_id": user, "rank": rank, "movie_id": movie}
    out = ranking_metrics(recs, held_out, K)
    out["map_relevant"] = map_at_k(recs, held_out, K, normalize="relevant")
    out["coverage"] = catalog_coverage(recs, model.train.movie_ids)
    out["tail_share"] = long_tail_share(recs, tail_movies(train.movie_id.to_numpy()))
    out["fit_seconds"] = model.fit_seconds
    per_user = ranking_metrics_per_user(recs, held_out, K)
    out["per_user_ndcg"] = UserStats(
        per_user["user_id"].to_numpy(), per_user["ndcg"].to_numpy(dtype=float), np.ones(len(per_user))
    )
    return out


def tune(frame: pd.DataFrame, names: list[str]) -> dict[str, dict]:
    """Best configuration per model by nDCG@K on a validation split of the training part."""
    is_fit = split_per_user(frame.user_id.to_numpy(), 0.75, VALIDATION_SEED)
    fit, validation = frame[is_fit], frame[~is_fit]
    chosen = {}
    print(f"validation: {len(fit):,} ratings to fit, {len(validation):,} held out", file=sys.stderr)
    for name in names:
        make, grid = GRID[name]
        scored = []
        for params in grid:
            start = time.perf_counter()
            result = evaluate(make(**params), fit, validation)
            scored.append((result["ndcg"], params))
            print(
                f"  {name:17s} {str(params):58s} nDCG@{K} {result['ndcg']:.4f}  ({time.perf_counter() - start:.1f} s)",
                file=sys.stderr,
                flush=True,
            )
        best = max(scored, key=lambda item: item[0])
        chosen[name] = best[1]
        print(f"  -> {name}: {best[1]} (validation nDCG@{K} {best[0]:.4f})", file=sys.stderr, flush=True)
    return chosen


def print_table(rows: list[tuple[str, dict, dict]]) -> None:
    header = (
        "model",
        "settings",
        f"P@{K}",
        f"R@{K}",
        f"nDCG@{K}",
        f"MAP@{K}",
        "MAP/|R|",
        "hit rate",
        "coverage",
        "tail share",
        "fit s",
    )
    lines = [header]
    for name, params, r in rows:
        settings = ", ".join(f"{key}={value}" for key, value in params.items()) or "-"
        lines.append(
            (
                name,
                settings,
                *(f"{r[key]:.4f}" for key in ("precision", "recall", "ndcg", "map", "map_relevant", "hit_rate")),
                f"{r['coverage']:.3f}",
                f"{r['tail_share']:.3f}",
                f"{r['fit_seconds']:.2f}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for i, line in enumerate(lines):
        print("  ".join(cell.ljust(w) if j < 2 else cell.rjust(w) for j, (cell, w) in enumerate(zip(line, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the ml-100k folder (with u.data)")
    parser.add_argument("--tune", action="store_true", help="choose hyperparameters on a validation split first")
    parser.add_argument("--models", nargs="+", default=list(GRID), help="only these models (names as in the table)")
    args = parser.parse_args()
    if not (args.data / "u.data").exists():
        print(f"[bench] ml-100k not found at {args.data}: skipped", file=sys.stderr)
        return
    names = [name for name in GRID if name in args.models]
    if PEERS & set(names) and not implicit_available():
        names = [name for name in names if name not in PEERS]
    frame = load_ml100k(args.data)
    is_train = split_per_user(frame.user_id.to_numpy(), 0.75, SPLIT_SEED)
    train, test = frame[is_train], frame[~is_train]
    chosen = tune(train, names) if args.tune else CHOSEN
    rows = []
    for name in names:
        make = GRID[name][0]
        rows.append((name, chosen[name], evaluate(make(**chosen[name]), train, test)))
        print(f"[bench] {name}: nDCG@{K} {rows[-1][2]['ndcg']:.4f}", file=sys.stderr, flush=True)
    print(
        f"\nml-100k, per-user 75/25 random split (seed {SPLIT_SEED}): {len(train):,} train, {len(test):,} test "
        f"ratings, {test.user_id.nunique()} users; top {K} among movies unseen in train"
    )
    print_table(rows)
    ours = [row for row in rows if row[0] not in PEERS]
    peers = [row for row in rows if row[0] in PEERS]
    if ours and peers:
        best_ours = max(ours, key=lambda row: row[2]["ndcg"])
        best_peer = max(peers, key=lambda row: row[2]["ndcg"])
        ahead = best_ours[2]["ndcg"] > best_peer[2]["ndcg"]
        print(
            f"\nbest of ours: {best_ours[0]} nDCG@{K} {best_ours[2]['ndcg']:.4f}; best peer: {best_peer[0]} "
            f"{best_peer[2]['ndcg']:.4f} ({'ours ahead' if ahead else 'PEER AHEAD'} by "
            f"{abs(best_ours[2]['ndcg'] - best_peer[2]['ndcg']):.4f})"
        )
        # paired bootstrap over the test users (movierec.uncertainty): is the difference more than chance?
        paired = bootstrap(
            {"peer": best_peer[2]["per_user_ndcg"], "ours": best_ours[2]["per_user_ndcg"]},
            baseline="peer",
            samples=1000,
            seed=SPLIT_SEED,
            lower_is_better=False,
        )["ours"]
        print(
            f"ours - peer: 95% paired bootstrap interval over users [{paired['difference_ci_low']:+.4f}, "
            f"{paired['difference_ci_high']:+.4f}]: "
            f"{'significant' if paired['is_better'] else 'NOT significant (within sampling noise)'}"
        )
    print(
        "\nMAP@10 divides by min(|R|, 10); MAP/|R| divides by |R| (Recommenders' published MAP). Coverage: "
        "distinct recommended / training movies. Tail: movies outside the 20% most-rated in train."
    )


if __name__ == "__main__":
    main()
