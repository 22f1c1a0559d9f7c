"""95% bootstrap intervals over test users for every metric of every model, the test set's size,
and a paired bootstrap comparison with the bias baseline (movierec.uncertainty)."""

import numpy as np
import pyarrow as pa

from movierec.uncertainty import LOWER_IS_BETTER, UserStats, bootstrap

# metric -> (numerator column, weight column or None for one per user, square root?)
METRICS = {
    "rmse": ("squared_error_sum", "rating_count", True),
    "mae": ("absolute_error_sum", "rating_count", False),
    "precision": ("precision_at_k", None, False),
    "recall": ("recall_at_k", None, False),
    "ndcg": ("ndcg_at_k", None, False),
    "map": ("average_precision", None, False),
    "hit_rate": ("is_hit", None, False),
}


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    samples, seed, baseline = int(meta["bootstrap_samples"]), int(meta["seed"]), str(meta["significance_baseline"])
    table = dbt.ref("model_user_metrics").arrow()
    table = table.read_all() if hasattr(table, "read_all") else table
    frame = table.to_pandas()
    rows = []
    for metric, (numerator, weight, root) in METRICS.items():
        part = frame[frame[numerator].notna()]
        stats = {}
        for name, group in part.groupby("model_name", sort=True):
            stats[name] = UserStats(
                group["user_id"].to_numpy(),
                group[numerator].to_numpy(dtype=float),
                np.ones(len(group)) if weight is None else group[weight].to_numpy(dtype=float),
                root,
            )
        result = bootstrap(stats, baseline, samples=samples, seed=seed, lower_is_better=metric in LOWER_IS_BETTER)
        for name, row in result.items():
            ratings = int(part.loc[part.model_name == name, "rating_count"].sum()) if weight else None
            rows.append(
                {
                    "model_name": name,
                    "metric": metric,
                    "value": row["value"],
                    "ci_low": row["ci_low"],
                    "ci_high": row["ci_high"],
                    "test_ratings": ratings,
                    "test_users": row["users"],
                    "baseline_model": baseline if baseline in result else None,
                    "difference_ci_low": row["difference_ci_low"],
                    "difference_ci_high": row["difference_ci_high"],
                    "is_better_than_baseline": row["is_better"],
                    "bootstrap_samples": samples,
                }
            )
    schema = pa.schema(
        [
            ("model_name", pa.string()),
            ("metric", pa.string()),
            ("value", pa.float64()),
            ("ci_low", pa.float64()),
            ("ci_high", pa.float64()),
            ("test_ratings", pa.int64()),
            ("test_users", pa.int64()),
            ("baseline_model", pa.string()),
            ("difference_ci_low", pa.float64()),
            ("difference_ci_high", pa.float64()),
            ("is_better_than_baseline", pa.bool_()),
            ("bootstrap_samples", pa.int64()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)
