"""The figures docs/tutorial.md quotes, read from the marts of a built warehouse.

The tutorial tells the demo build's story with numbers. So that those numbers cannot drift
from what the build really makes, each one is defined here once, by the SQL that reads it from
the marts and the way it is written in the text ("0.169", "83%", "1,000,000"). `make figures`
(and `make tutorial-figures` alone) writes them to docs/images/demo_figures.json, next to the
charts drawn from the same warehouse; tests/unit/test_tutorial_figures.py checks that the
tutorial quotes exactly those strings where it marks a figure, and marks every figure it quotes.

    python -m movierec.tutorial_figures [--warehouse PATH] [--out docs/images/demo_figures.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from movierec.warehouse import connect, warehouse_path

DEFAULT_OUT = Path("docs/images/demo_figures.json")


def count(value) -> str:
    """1000000 -> '1,000,000'."""
    return f"{int(value):,}"


def decimals(places: int) -> Callable[[object], str]:
    return lambda value: f"{float(value):.{places}f}"


def percent(places: int = 0) -> Callable[[object], str]:
    """0.8312 -> '83%' (places=0) or '83.1%' (places=1)."""
    return lambda value: f"{100 * float(value):.{places}f}%"


def text(value) -> str:
    return str(value)


@dataclass(frozen=True)
class Figure:
    key: str
    what: str
    sql: str  # one row, one column
    write: Callable[[object], str]


def _metric(model: str, column: str) -> str:
    return f"select {column} from main.mart_leaderboard where model_name = '{model}'"


def _ci(model: str, metric: str, bound: str) -> str:
    return f"select {bound} from main.model_metrics where model_name = '{model}' and metric = '{metric}'"


def _ratio(model: str, column: str, over: str) -> str:
    return (
        f"select (select {column} from main.mart_leaderboard where model_name = '{model}')"
        f" / (select {column} from main.mart_leaderboard where model_name = '{over}')"
    )


def _activity_bucket_order(which: str) -> str:
    """The lightest (or heaviest) activity bucket with at least 100 test users: fewer make a
    noisy RMSE. On a sample too small to have one, the lightest (heaviest) bucket."""
    direction = "" if which == "light" else " desc"
    return f"order by user_count >= 100 desc, activity_bucket_floor{direction} limit 1"


def _activity_rmse(model: str, which: str) -> str:
    return f"""
        select rmse from main.mart_rmse_by_activity
        where model_name = '{model}' and activity_bucket_floor = (
            select activity_bucket_floor from main.mart_rmse_by_activity
            where model_name = 'biased_mf' {_activity_bucket_order(which)})"""


def _activity_bucket(which: str) -> str:
    return f"""
        select activity_bucket from main.mart_rmse_by_activity
        where model_name = 'biased_mf' {_activity_bucket_order(which)}"""


def _recovery(model: str, column: str) -> str:
    return f"select {column} from main.mart_genre_recovery where model_name = '{model}'"


def _component_end(component: int, pole: str) -> str:
    """The two genres most over-represented at one end of a component of the latent-space model,
    'Drama and Comedy'."""
    return f"""
        select string_agg(genre, ' and ' order by rank)
        from main.mart_component_genres
        where component = {component} and pole = '{pole}' and rank <= 2
            and model_name = (select model_name from main.mart_genre_recovery where is_latent_space_model)"""


FIGURES: list[Figure] = [
    # 1. the data is skewed
    Figure("ratings", "ratings loaded", "select count(*) from main.fct_ratings", count),
    Figure("users", "users who rated", "select count(distinct user_id) from main.fct_ratings", count),
    Figure("movies", "movies in the catalogue", "select count(*) from main.dim_movies", count),
    Figure(
        "share_4_or_5_stars",
        "share of ratings that are 4 or 5 stars",
        "select sum(rating_share) from main.mart_rating_distribution where period = 'all' and rating >= 4",
        percent(0),
    ),
    Figure(
        "share_3_or_4_stars",
        "share of ratings that are 3 or 4 stars",
        "select sum(rating_share) from main.mart_rating_distribution where period = 'all' and rating in (3, 4)",
        percent(0),
    ),
    Figure(
        "share_1_or_2_stars",
        "share of ratings that are 1 or 2 stars",
        "select sum(rating_share) from main.mart_rating_distribution where period = 'all' and rating < 3",
        percent(0),
    ),
    Figure("mean_rating", "mean rating", "select avg(rating) from main.fct_ratings", decimals(2)),
    Figure(
        "head_movie_share",
        "share of the movies (most rated first) that take 80% of the ratings",
        "select head_movie_share from main.mart_long_tail_summary",
        percent(0),
    ),
    Figure(
        "top_1pct_movie_rating_share",
        "share of the ratings that the 1% most rated movies take",
        "select max(cumulative_rating_share) from main.mart_long_tail where cumulative_movie_share <= 0.01",
        percent(0),
    ),
    Figure(
        "bottom_half_movie_rating_share",
        "share of the ratings that the less rated half of the movies take",
        "select 1 - max(cumulative_rating_share) from main.mart_long_tail where cumulative_movie_share <= 0.5",
        percent(0),
    ),
    Figure(
        "median_ratings_per_movie",
        "median number of ratings per movie",
        "select median_ratings_per_movie from main.mart_long_tail_summary",
        count,
    ),
    Figure(
        "movie_gini",
        "Gini coefficient of the ratings per movie",
        "select gini_coefficient from main.mart_long_tail_summary",
        decimals(2),
    ),
    Figure(
        "median_ratings_per_user",
        "median number of ratings per user",
        "select median_ratings_per_user from main.mart_user_activity_summary",
        count,
    ),
    Figure(
        "max_ratings_per_user",
        "most ratings by one user",
        "select max_ratings_per_user from main.mart_user_activity_summary",
        count,
    ),
    Figure(
        "top_10pct_user_rating_share",
        "share of the ratings made by the 10% most active users",
        "select top_10pct_rating_share from main.mart_user_activity_summary",
        percent(0),
    ),
    # 2. latent factors predict stars better, more so for active users
    Figure(
        "test_ratings",
        "held-out ratings scored for RMSE",
        "select test_ratings from main.model_metrics where model_name = 'biased_mf' and metric = 'rmse'",
        count,
    ),
    Figure(
        "test_users",
        "users with held-out ratings",
        "select test_users from main.model_metrics where model_name = 'biased_mf' and metric = 'rmse'",
        count,
    ),
    Figure(
        "ranking_test_users",
        "users whose top-10 lists are scored",
        "select test_users from main.model_metrics where model_name = 'ease' and metric = 'ndcg'",
        count,
    ),
    Figure("rmse_global_mean", "RMSE of the global mean", _metric("global_mean", "rmse"), decimals(3)),
    Figure("rmse_movie_mean", "RMSE of the movie mean", _metric("movie_mean", "rmse"), decimals(3)),
    Figure("rmse_bias_baseline", "RMSE of the bias baseline", _metric("bias_baseline", "rmse"), decimals(3)),
    Figure("rmse_bayesian_mf", "RMSE of Bayesian matrix factorization", _metric("bayesian_mf", "rmse"), decimals(3)),
    Figure("rmse_biased_mf", "RMSE of biased matrix factorization", _metric("biased_mf", "rmse"), decimals(3)),
    Figure(
        "rmse_biased_mf_ci_low",
        "low end of the 95% interval of biased_mf's RMSE",
        _ci("biased_mf", "rmse", "ci_low"),
        decimals(3),
    ),
    Figure(
        "rmse_biased_mf_ci_high",
        "high end of the 95% interval of biased_mf's RMSE",
        _ci("biased_mf", "rmse", "ci_high"),
        decimals(3),
    ),
    Figure(
        "rmse_bias_baseline_ci_low",
        "low end of the 95% interval of the bias baseline's RMSE",
        _ci("bias_baseline", "rmse", "ci_low"),
        decimals(3),
    ),
    Figure(
        "rmse_bias_baseline_ci_high",
        "high end of the 95% interval of the bias baseline's RMSE",
        _ci("bias_baseline", "rmse", "ci_high"),
        decimals(3),
    ),
    Figure(
        "rmse_biased_mf_gain",
        "how much lower biased_mf's RMSE is than the bias baseline's",
        "select 1 - " + _ratio("biased_mf", "rmse", "bias_baseline")[len("select ") :],
        percent(0),
    ),
    Figure(
        "light_bucket", "the lightest activity bucket with at least 100 test users", _activity_bucket("light"), text
    ),
    Figure(
        "heavy_bucket", "the heaviest activity bucket with at least 100 test users", _activity_bucket("heavy"), text
    ),
    Figure(
        "rmse_bias_baseline_light",
        "bias baseline RMSE, lightest bucket",
        _activity_rmse("bias_baseline", "light"),
        decimals(3),
    ),
    Figure(
        "rmse_bias_baseline_heavy",
        "bias baseline RMSE, heaviest bucket",
        _activity_rmse("bias_baseline", "heavy"),
        decimals(3),
    ),
    Figure(
        "rmse_biased_mf_light", "biased_mf RMSE, lightest bucket", _activity_rmse("biased_mf", "light"), decimals(3)
    ),
    Figure(
        "rmse_biased_mf_heavy", "biased_mf RMSE, heaviest bucket", _activity_rmse("biased_mf", "heavy"), decimals(3)
    ),
    # 3. ranking is not rating; serving and cold start
    Figure("ndcg_popularity", "nDCG@10 of popularity", _metric("popularity", "ndcg_at_k"), decimals(3)),
    Figure("ndcg_ease", "nDCG@10 of EASE", _metric("ease", "ndcg_at_k"), decimals(3)),
    Figure("ndcg_ials", "nDCG@10 of implicit ALS", _metric("ials", "ndcg_at_k"), decimals(3)),
    Figure("ndcg_biased_mf", "nDCG@10 of biased_mf (a rating model)", _metric("biased_mf", "ndcg_at_k"), decimals(3)),
    Figure(
        "ndcg_ease_over_popularity",
        "EASE's nDCG@10 over popularity's",
        _ratio("ease", "ndcg_at_k", "popularity"),
        decimals(1),
    ),
    Figure(
        "ndcg_ease_ci_low", "low end of the 95% interval of EASE's nDCG@10", _ci("ease", "ndcg", "ci_low"), decimals(3)
    ),
    Figure(
        "ndcg_ease_ci_high",
        "high end of the 95% interval of EASE's nDCG@10",
        _ci("ease", "ndcg", "ci_high"),
        decimals(3),
    ),
    Figure(
        "hit_rate_ease",
        "share of test users with at least one held-out movie in EASE's top 10",
        _metric("ease", "hit_rate_at_k"),
        percent(0),
    ),
    Figure("serving_model", "the serving model", "select model_name from main.serving_config", text),
    Figure(
        "fallback_min_ratings",
        "users with fewer ratings get the popularity fallback",
        "select recommendations_min_user_ratings from main.serving_config",
        count,
    ),
    Figure(
        "recommended_users",
        "users with recommendations",
        "select count(distinct user_id) from main.user_recommendations",
        count,
    ),
    Figure(
        "fallback_users",
        "users who get the popularity fallback",
        "select count(distinct user_id) from main.user_recommendations where is_fallback",
        count,
    ),
    # 4. the latent space groups movies by taste
    Figure(
        "latent_space_model",
        "the model whose factors the map shows",
        "select model_name from main.mart_genre_recovery where is_latent_space_model",
        text,
    ),
    Figure(
        "recovery_biased_mf",
        "share of biased_mf's 10 nearest neighbours sharing a genre",
        _recovery("biased_mf", "neighbour_genre_share"),
        percent(0),
    ),
    Figure(
        "recovery_chance",
        "the same share for random neighbours",
        _recovery("biased_mf", "chance_genre_share"),
        percent(0),
    ),
    Figure(
        "recovery_biased_mf_lift",
        "biased_mf's share over chance",
        _recovery("biased_mf", "lift_over_chance"),
        decimals(1),
    ),
    Figure(
        "recovery_ials",
        "share of ials's 10 nearest neighbours sharing a genre",
        _recovery("ials", "neighbour_genre_share"),
        percent(0),
    ),
    Figure("component_1_low", "genres at the low end of component 1", _component_end(1, "low"), text),
    Figure("component_1_high", "genres at the high end of component 1", _component_end(1, "high"), text),
    Figure("component_2_low", "genres at the low end of component 2", _component_end(2, "low"), text),
    Figure("component_2_high", "genres at the high end of component 2", _component_end(2, "high"), text),
]


def collect(path=None) -> dict[str, dict[str, str | None]]:
    """Every figure read from the warehouse at `path` (read-only): {key: {"text", "what"}}.
    A figure whose query finds nothing (a model not fitted, no genres in the data) has text None."""
    figures: dict[str, dict[str, str | None]] = {}
    with connect(warehouse_path(path), read_only=True) as con:
        tables = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()
        }
        for figure in FIGURES:
            needed = set(re.findall(r"main\.(\w+)", figure.sql))
            row = con.execute(figure.sql).fetchone() if needed <= tables else None
            value = None if row is None or row[0] is None else figure.write(row[0])
            figures[figure.key] = {"text": value, "what": figure.what}
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m movierec.tutorial_figures",
        description="Write the figures docs/tutorial.md quotes, read from the warehouse's marts, to a JSON file.",
    )
    parser.add_argument("--warehouse", default=None, help="the warehouse (default: $MOVIEREC_WAREHOUSE)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where to write them (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    target = warehouse_path(args.warehouse)
    if not target.exists():
        print(f"tutorial_figures: error: no warehouse at {target}: run make demo first", file=sys.stderr)
        return 1
    figures = collect(target)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=1) + "\n")
    print(f"wrote {len(figures)} figures from {target} to {args.out}")
    missing = [key for key, figure in figures.items() if figure["text"] is None]
    if missing:
        # not an error: on other data (no genres, other models) `make figures` still redraws the
        # charts; the tutorial's test then names each figure it lacks
        print(
            f"tutorial_figures: warning: {len(missing)} figures have no value in this warehouse "
            f"(not the demo build?): {', '.join(missing)}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
