"""Benchmark: does the built-in sample behave like real data? The sample side by side with
MovieLens ml-100k and ml-latest-small, every figure measured the same way on each.

    .venv/bin/python benchmarks/bench_sample_realism.py                 # demo sample vs both MovieLens sets
    .venv/bin/python benchmarks/bench_sample_realism.py --size tiny     # quicker
    .venv/bin/python benchmarks/bench_sample_realism.py --sample DIR    # an already generated sample folder

The sample is generated into benchmarks/.cache/sample-<size> (seed 20061002) unless --sample is
given; ../shared/data/movielens/{ml-100k,ml-latest-small} are read beside the project (a data set
that is absent is skipped with a message).

The same protocol on every data set: each user's ratings split 75/25 at random
(`metrics.split_per_user`, seed 42); top 10 among the movies a user did not rate in train, every
held-out movie relevant (the protocol of bench_ranking.py); the models with bench_ranking's and
bench_ml100k's chosen settings (Popularity; EASE reg 500; iALS 64 factors; BiasBaseline reg 5/2;
BiasedMF k 20 ALS). Rows:

* nDCG@10 of popularity, EASE, iALS, and best personalized / popularity;
* Gini coefficient of the movies' rating counts (0: every movie as popular, 1: one movie has all);
* share of ratings of 4 stars or more;
* RMSE of the bias baseline and of biased MF on the held-out ratings, and their ratio;
* biased MF's RMSE by user activity bucket (training ratings per user, powers of two as in
  macro log_buckets: 16-31 means 16..31 ratings).

The figures are what the generator's selection settings were tuned against (movierec/generate/genres.py:
_GENRE_DRAW_SHARE, _DISLIKE_SKIP); the table in docs/tutorial.md comes from this script.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from movierec.generate import generate  # noqa: E402
from movierec.metrics import ranking_metrics, rmse, split_per_user  # noqa: E402
from movierec.models.baselines import BiasBaseline  # noqa: E402
from movierec.models.data import Ratings  # noqa: E402
from movierec.models.mf import BiasedMF  # noqa: E402
from movierec.models.popularity import Popularity  # noqa: E402
from movierec.models.topn import EASE, ImplicitALS  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MOVIELENS = PROJECT_ROOT.parent / "shared" / "data" / "movielens"
CACHE = PROJECT_ROOT / "benchmarks" / ".cache"
K = 10
SPLIT_SEED = 42
BUCKETS = (1, 16, 32, 64, 128, 256)  # activity bucket floors shown (ratings per user in train)


def read_netflix_layout(folder: Path) -> pd.DataFrame:
    """user_id, movie_id, rating from combined_data_*.txt (the sample's files)."""
    users, movies, ratings = [], [], []
    for path in sorted(folder.glob("combined_data_*.txt")):
        text = path.read_text(encoding="ascii")
        lines = np.array(text.split("\n")[:-1])
        is_header = np.char.endswith(lines, ":")
        header_ids = np.array([int(x[:-1]) for x in lines[is_header]])
        movie_of_line = header_ids[np.cumsum(is_header) - 1]
        rows = lines[~is_header]
        parts = np.char.split(rows, ",")
        users.append(np.array([int(p[0]) for p in parts], dtype=np.int64))
        ratings.append(np.array([float(p[1]) for p in parts]))
        movies.append(movie_of_line[~is_header])
    return pd.DataFrame(
        {"user_id": np.concatenate(users), "movie_id": np.concatenate(movies), "rating": np.concatenate(ratings)}
    )


def read_ml100k(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "u.data", sep="\t", names=["user_id", "movie_id", "rating", "ts"], usecols=[0, 1, 2])


def read_ml_latest(folder: Path) -> pd.DataFrame:
    frame = pd.read_csv(folder / "ratings.csv")
    return frame.rename(columns={"userId": "user_id", "movieId": "movie_id"})[["user_id", "movie_id", "rating"]]


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative counts."""
    x = np.sort(np.asarray(counts, dtype=np.float64))
    n = x.size
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


def to_ratings(frame: pd.DataFrame) -> Ratings:
    return Ratings.from_ids(frame.user_id.to_numpy(), frame.movie_id.to_numpy(), frame.rating.to_numpy())


def measure(name: str, frame: pd.DataFrame) -> dict:
    """Every figure of the table for one data set."""
    started = time.perf_counter()
    is_train = split_per_user(frame.user_id.to_numpy(), 0.75, SPLIT_SEED)
    train, test = frame[is_train], frame[~is_train]
    train_ratings = to_ratings(train)
    users = np.unique(test.user_id.to_numpy())
    out: dict = {"ratings": len(frame), "users": frame.user_id.nunique(), "movies": frame.movie_id.nunique()}
    for label, model in (
        ("popularity", Popularity()),
        ("EASE", EASE(reg=500)),
        ("iALS", ImplicitALS(n_factors=64, reg=0.03, unobserved_weight=0.1)),
    ):
        model.fit(train_ratings)
        user, rank, movie, _ = model.recommend(users, k=K)
        out[f"ndcg {label}"] = ranking_metrics({"user_id": user, "rank": rank, "movie_id": movie}, test, K)["ndcg"]
        print(f"[bench] {name}: {label} nDCG@{K} {out[f'ndcg {label}']:.4f}", file=sys.stderr, flush=True)
    out["ndcg ratio"] = max(out["ndcg EASE"], out["ndcg iALS"]) / out["ndcg popularity"]
    out["gini"] = gini(frame.groupby("movie_id").size().to_numpy())
    out["share 4+"] = float((frame.rating >= 4).mean())
    known = test[test.user_id.isin(train.user_id.unique()) & test.movie_id.isin(train.movie_id.unique())]
    for label, model in (
        ("bias", BiasBaseline(reg_user=5.0, reg_movie=2.0)),
        ("mf", BiasedMF(n_factors=20, reg=14.0, reg_bias=3.0, weighted_reg=False, epochs=20)),
    ):
        model.fit(train_ratings)
        predicted = np.clip(
            model.predict(known.user_id.to_numpy(), known.movie_id.to_numpy()), frame.rating.min(), frame.rating.max()
        )
        out[f"rmse {label}"] = rmse(predicted, known.rating.to_numpy())
        if label == "mf":
            activity = train.groupby("user_id").size()
            floor = 2 ** np.floor(np.log2(activity.reindex(known.user_id).to_numpy()) + 1e-9)
            for lo in BUCKETS:
                hi = BUCKETS[BUCKETS.index(lo) + 1] if lo != BUCKETS[-1] else None
                mask = (floor >= lo) & ((floor < hi) if hi else True)
                out[f"mf rmse users {lo}-{hi - 1 if hi else ''}"] = (
                    rmse(predicted[mask], known.rating.to_numpy()[mask]) if mask.sum() >= 50 else float("nan")
                )
    out["rmse ratio"] = out["rmse mf"] / out["rmse bias"]
    out["seconds"] = time.perf_counter() - started
    return out


def print_table(results: dict[str, dict]) -> None:
    names = list(results)
    keys = [k for k in results[names[0]] if k != "seconds"]
    rows = [("measure", *names)]
    for key in keys:
        cells = []
        for name in names:
            value = results[name].get(key, float("nan"))
            if key in ("ratings", "users", "movies"):
                cells.append(f"{int(value):,}")
            elif isinstance(value, float) and np.isnan(value):
                cells.append("-")
            elif key.endswith("ratio"):
                cells.append(f"{value:.2f}")
            elif key == "share 4+":
                cells.append(f"{value:.1%}")
            else:
                cells.append(f"{value:.3f}")
        rows.append((key, *cells))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print(
            "| " + " | ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))) + " |"
        )
        if i == 0:
            print("|" + "|".join("-" * (w + 2) if j == 0 else "-" * (w + 1) + ":" for j, w in enumerate(widths)) + "|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="demo", help="sample size to generate (tiny | demo)")
    parser.add_argument("--sample", type=Path, help="an already generated sample folder instead")
    parser.add_argument("--seed", type=int, default=20061002)
    parser.add_argument("--only-sample", action="store_true", help="skip the MovieLens sets (for tuning)")
    args = parser.parse_args()
    folder = args.sample
    if folder is None:
        folder = CACHE / f"sample-{args.size}"
        generate(args.size, folder, seed=args.seed, progress=False)
    results = {f"sample ({folder.name})": measure("sample", read_netflix_layout(folder))}
    if not args.only_sample:
        for name, reader in (("ml-100k", read_ml100k), ("ml-latest-small", read_ml_latest)):
            path = MOVIELENS / name
            if not path.is_dir():
                print(f"[bench] {path} not found: {name} skipped", file=sys.stderr)
                continue
            results[name] = measure(name, reader(path))
    print(f"\nSample vs real data: per-user 75/25 random split (seed {SPLIT_SEED}), top {K} among unseen movies\n")
    print_table(results)
    print(
        "\nndcg ratio: best of EASE and iALS over popularity. rmse ratio: biased MF over the bias baseline. "
        "mf rmse users a-b: biased MF's RMSE for users with a..b training ratings ('-': fewer than 50 test ratings)."
    )


if __name__ == "__main__":
    main()
