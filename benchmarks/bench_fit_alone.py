"""Benchmark: one recommender's fit and export, alone, on the training ratings of a built warehouse.

`bench_full_build.py` times every node of a whole `dbt build`, where two fits share the two
cores. This times one fit the way its dbt model runs it (one BLAS thread, the shared training
ratings of int_ratings_train, then the export: held-out predictions for int_ratings_test and
top-10 lists for `--eval-users` users) with the default vars, and prints wall time, CPU time,
peak memory and the load average, so that a slow node of the full build can be measured and
improved without rebuilding 100M ratings each time:

    .venv/bin/python benchmarks/bench_fit_alone.py --warehouse benchmarks/.cache/full-build.duckdb ials item_knn

Models: ials, item_knn, biased_mf, bayesian_mf. `--ials-solver cg` forces iALS's conjugate-gradient
path (which the size rule picks only at the full size) so that it can be timed and checked on the
medium warehouse. Rating models print their probe RMSE, top-N models their nDCG@10 and
precision@10 of the evaluation users' lists against all their held-out ratings (the protocol of
bench_ranking.py).

The warehouse is opened read-only; build it first (`bench_full_build.py --size full` leaves
benchmarks/.cache/full-build.duckdb).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np

MODELS = ("ials", "item_knn", "biased_mf", "bayesian_mf")


def make(name: str, n_ratings: int, ials_solver: str = "auto", ials_iterations: int | None = None):
    """The model as its fit_<name> dbt model builds it with the default vars, size rules included."""
    from movierec.models.knn import ItemKNN
    from movierec.models.mf import BayesianMF, BiasedMF
    from movierec.models.scale import bayesian_mf_sweeps, biased_mf_epochs, biased_mf_factors
    from movierec.models.topn import ImplicitALS

    if name == "ials":  # dbt_project.yml: factors 50, ials_reg 0.03, ials_unobserved_weight 0.1, ials_iterations 8
        return ImplicitALS(
            n_factors=50,
            reg=0.03,
            unobserved_weight=0.1,
            iterations=ials_iterations or 8,
            seed=42,
            verbose=True,
            solver=ials_solver,
        )
    if name == "biased_mf":  # factors 50, mf_reg 0.05, mf_epochs 10 (size rules)
        return BiasedMF(
            n_factors=biased_mf_factors(50, 10, n_ratings),
            reg=0.05,
            epochs=biased_mf_epochs(10, n_ratings),
            seed=42,
            verbose=True,
        )
    if name == "bayesian_mf":  # bpmf_factors 10, bpmf_samples 100 (size rule), burn-in 10 (fit_bayesian_mf.py)
        burn_in, samples = bayesian_mf_sweeps(100, 10, n_ratings)
        return BayesianMF(n_factors=10, samples=samples, burn_in=burn_in, seed=42, verbose=True)
    return ItemKNN(n_neighbors=80, shrinkage=100, min_neighbors=20)  # knn_neighbours, knn_shrinkage, knn_min_neighbours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", choices=MODELS)
    parser.add_argument("--warehouse", required=True)
    parser.add_argument(
        "--eval-users", type=int, default=2000, help="top-10 lists for this many test users (var eval_max_users)"
    )
    parser.add_argument(
        "--ials-solver", choices=("auto", "exact", "cg"), default="auto", help="iALS's solver (auto: the size rule)"
    )
    parser.add_argument(
        "--ials-iterations", type=int, default=None, help="iALS's sweeps (default: var ials_iterations 8, size rule)"
    )
    args = parser.parse_args()

    import duckdb

    from movierec.metrics import ranking_metrics
    from movierec.models.blas import one_blas_thread_for_this_process
    from movierec.models.data import training_ratings
    from movierec.models.export import export_artifacts

    one_blas_thread_for_this_process()
    con = duckdb.connect(args.warehouse, read_only=True)
    train = training_ratings(con.table("int_ratings_train"))
    test = con.sql("select user_id, movie_id, rating from int_ratings_test").arrow()
    test = test.read_all() if hasattr(test, "read_all") else test
    print(f"{len(train):,} training ratings, {test.num_rows:,} test ratings", flush=True)
    rows = []
    for name in args.models:
        wall, cpu = time.perf_counter(), time.process_time()
        model = make(name, len(train), args.ials_solver, args.ials_iterations).fit(train)
        fit_s = time.perf_counter() - wall
        artifacts = export_artifacts(model, test, 50, 10, args.eval_users)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        note = ""
        if model.predicts_ratings:
            predicted = artifacts.filter(artifacts.column("record").to_numpy(zero_copy_only=False) == "prediction")
            error = predicted.column("predicted_rating").to_numpy() - test.column("rating").to_numpy()
            note = f"probe RMSE {float(np.sqrt(np.mean(error**2))):.4f}"
        else:
            lists = artifacts.filter(artifacts.column("record").to_numpy(zero_copy_only=False) == "recommendation")
            recs = {name: lists.column(name).to_numpy() for name in ("user_id", "rank", "movie_id")}
            held = {name: test.column(name).to_numpy() for name in ("user_id", "movie_id")}
            scores = ranking_metrics(recs, held, 10, users=np.unique(recs["user_id"]))
            note = f"nDCG@10 {scores['ndcg']:.4f}, precision@10 {scores['precision']:.4f}"
        rows.append(
            (
                name,
                f"{fit_s:.1f}",
                f"{wall:.1f}",
                f"{cpu:.1f}",
                f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f}",
                f"{os.getloadavg()[0]:.1f}",
                note,
            )
        )
        print(f"{name}: fit {fit_s:.1f} s, fit and export {wall:.1f} s wall, {cpu:.1f} s CPU {note}", flush=True)
    header = ("model", "fit s", "fit+export s", "CPU s", "peak RSS GB", "load", "note")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print()
    for i, row in enumerate([header, *rows]):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
