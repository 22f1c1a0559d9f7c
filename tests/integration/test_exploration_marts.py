"""The exploration marts recomputed with pandas on MovieLens 100K, number by number.

The ratings are read straight from ../shared/data/movielens/ml-100k/u.data (not from the
warehouse), so these tests check ingestion, subsetting and every mart's SQL together against
an independent computation. Skipped when the real data is not beside the project.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from movierec.ingest import ingest
from tests.conftest import needs, shared
from tests.conftest import run_dbt as dbt

ML100K = shared("movielens", "ml-100k")

pytestmark = [pytest.mark.slow, needs(ML100K / "u.data")]

# The exploration marts; `dbt build --select +<each>` builds them with their parents and tests.
MARTS = [
    "dim_movies",
    "dim_users",
    "mart_user_activity",
    "mart_user_activity_summary",
    "mart_rating_distribution",
    "mart_ratings_over_time",
    "mart_top_movies",
    "mart_long_tail",
    "mart_long_tail_summary",
    "mart_release_years",
]
PRIOR_WEIGHT = 25  # var damped_mean_prior_weight
HEAD_SHARE = 0.8  # var head_share
TOP_N, TOP_MIN_RATINGS = 100, 100  # vars top_movies_n, top_movies_min_ratings
RTOL = 1e-9


def table(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).df()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """ml-100k ingested into a scratch warehouse and the exploration marts built (with their tests)."""
    tmp = tmp_path_factory.mktemp("exploration")
    warehouse = tmp / "ml100k.duckdb"
    ingest(ML100K, warehouse=warehouse, quiet=True)
    dbt(["build", "--select", *[f"+{m}" for m in MARTS], "--indirect-selection", "cautious"], warehouse, tmp)
    return warehouse, tmp


@pytest.fixture(scope="module")
def warehouse(built) -> Path:
    return built[0]


@pytest.fixture(scope="module")
def ratings() -> pd.DataFrame:
    """u.data as pandas: one row per user and movie, rated_on the UTC date of the timestamp."""
    df = pd.read_csv(ML100K / "u.data", sep="\t", names=["user_id", "movie_id", "rating", "timestamp"])
    df["rating"] = df["rating"].astype(float)
    df["rated_on"] = pd.to_datetime(df["timestamp"], unit="s").dt.floor("D")
    assert not df.duplicated(["user_id", "movie_id"]).any()
    return df


def gini(values: np.ndarray) -> float:
    """Gini coefficient from the mean absolute difference (an independent formula from the SQL's)."""
    x = np.asarray(values, dtype=float)
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean()))


def movie_stats(ratings: pd.DataFrame) -> pd.DataFrame:
    """Per-movie statistics, popularity rank and head flag, computed with pandas."""
    global_mean = ratings["rating"].mean()
    stats = (
        ratings.groupby("movie_id")
        .agg(
            rating_count=("rating", "size"),
            rating_sum=("rating", "sum"),
            mean_rating=("rating", "mean"),
            rating_stddev=("rating", "std"),
            first_rated_on=("rated_on", "min"),
            last_rated_on=("rated_on", "max"),
        )
        .reset_index()
    )
    stats["damped_mean_rating"] = (stats["rating_sum"] + PRIOR_WEIGHT * global_mean) / (
        stats["rating_count"] + PRIOR_WEIGHT
    )
    stats = stats.sort_values(["rating_count", "movie_id"], ascending=[False, True]).reset_index(drop=True)
    stats["popularity_rank"] = np.arange(1, len(stats) + 1)
    cumulative = stats["rating_count"].cumsum()
    stats["cumulative_rating_share"] = cumulative / len(ratings)
    stats["is_head"] = (cumulative - stats["rating_count"]) < HEAD_SHARE * len(ratings)
    return stats


def test_fct_ratings_is_u_data(warehouse, ratings):
    fct = table(warehouse, "select * from fct_ratings")
    merged = ratings.merge(fct, on=["user_id", "movie_id"], suffixes=("", "_fct"), validate="1:1")
    assert len(fct) == len(ratings) == len(merged) == 100_000
    assert (merged["rating"] == merged["rating_fct"]).all()
    assert (merged["rated_on"] == pd.to_datetime(merged["rated_on_fct"])).all()


def test_default_subset_compiles_to_a_plain_select(built):
    _, tmp = built
    compiled = (
        tmp / "target" / "compiled" / "movierec" / "models" / "intermediate" / "int_ratings_subset.sql"
    ).read_text()
    assert "group by" not in compiled and "over (" not in compiled and "where" not in compiled


def test_rating_distribution(warehouse, ratings):
    mart = table(warehouse, "select * from mart_rating_distribution")
    overall = mart[mart["period"] == "all"].set_index("rating")
    expected = ratings["rating"].value_counts().sort_index()
    assert overall["rating_count"].to_dict() == expected.to_dict()
    np.testing.assert_allclose(overall.loc[expected.index, "rating_share"], expected / len(ratings), rtol=RTOL)

    yearly = mart[mart["period"] != "all"]
    expected_yearly = (
        ratings.assign(rating_year=ratings["rated_on"].dt.year)
        .groupby(["rating_year", "rating"])
        .size()
        .unstack(fill_value=0)
        .stack()
    )
    got = yearly.set_index(["rating_year", "rating"])["rating_count"]
    assert got.sort_index().to_dict() == expected_yearly.sort_index().to_dict()
    assert set(yearly["period"]) == {"1997", "1998"}
    np.testing.assert_allclose(yearly.groupby("period")["rating_share"].sum(), 1.0, rtol=RTOL)


def test_ratings_over_time(warehouse, ratings):
    mart = table(warehouse, "select * from mart_ratings_over_time order by rating_month")
    month = ratings["rated_on"].dt.to_period("M").dt.to_timestamp()
    first_month = ratings.groupby("user_id")["rated_on"].min().dt.to_period("M").dt.to_timestamp()
    expected = (
        pd.DataFrame(
            {
                "rating_count": ratings.groupby(month).size(),
                "mean_rating": ratings.groupby(month)["rating"].mean(),
                "active_user_count": ratings.groupby(month)["user_id"].nunique(),
                "new_user_count": first_month.value_counts(),
            }
        )
        .fillna(0)
        .sort_index()
    )
    assert list(pd.to_datetime(mart["rating_month"])) == list(expected.index)  # 1997-09 .. 1998-04, no gaps
    for column in ["rating_count", "active_user_count", "new_user_count"]:
        assert list(mart[column]) == list(expected[column].astype(int)), column
    np.testing.assert_allclose(mart["mean_rating"], expected["mean_rating"], rtol=RTOL)
    assert list(mart["cumulative_user_count"])[-1] == ratings["user_id"].nunique() == 943


def test_dim_movies_statistics(warehouse, ratings):
    dim = table(warehouse, "select * from dim_movies where rating_count > 0").set_index("movie_id").sort_index()
    expected = movie_stats(ratings).set_index("movie_id").sort_index()
    assert list(dim.index) == list(expected.index)
    for column in ["rating_count", "popularity_rank", "is_head"]:
        assert (dim[column].to_numpy() == expected[column].to_numpy()).all(), column
    for column in ["mean_rating", "damped_mean_rating"]:
        np.testing.assert_allclose(dim[column], expected[column], rtol=RTOL, err_msg=column)
    np.testing.assert_allclose(dim["rating_stddev"], expected["rating_stddev"], rtol=1e-7)  # NaN for one rating
    assert (pd.to_datetime(dim["first_rated_on"]) == expected["first_rated_on"]).all()
    assert (pd.to_datetime(dim["last_rated_on"]) == expected["last_rated_on"]).all()
    # every title of u.item is there, rated or not
    assert table(warehouse, "select count(*) as n from dim_movies")["n"][0] == 1682


def test_dim_users_and_activity(warehouse, ratings):
    dim = table(warehouse, "select * from dim_users").set_index("user_id").sort_index()
    counts = ratings.groupby("user_id").size().sort_index()
    assert (dim["rating_count"] == counts).all()
    np.testing.assert_allclose(dim["mean_rating"], ratings.groupby("user_id")["rating"].mean().sort_index(), rtol=RTOL)
    floors = counts.map(lambda n: 1 << (int(n).bit_length() - 1))
    assert (dim["activity_bucket_floor"] == floors).all()
    assert (dim["activity_bucket"] == floors.map(lambda f: "1" if f == 1 else f"{f}-{2 * f - 1}")).all()
    ranked = counts.reset_index(name="n").sort_values(["n", "user_id"], ascending=[False, True])
    assert (dim.loc[ranked["user_id"], "activity_rank"].to_numpy() == np.arange(1, len(counts) + 1)).all()
    np.testing.assert_allclose(dim["activity_percentile"], counts.rank(method="max", pct=True), rtol=RTOL)

    buckets = table(warehouse, "select * from mart_user_activity").set_index("activity_bucket_floor").sort_index()
    expected = pd.DataFrame(
        {"user_count": floors.value_counts(), "rating_count": counts.groupby(floors).sum()}
    ).sort_index()
    assert buckets[["user_count", "rating_count"]].to_dict() == expected.to_dict()
    assert list(buckets.index) == [16, 32, 64, 128, 256, 512]  # ml-100k users have 20 to 737 ratings
    np.testing.assert_allclose(buckets["rating_share"], expected["rating_count"] / len(ratings), rtol=RTOL)
    np.testing.assert_allclose(buckets["user_share"], expected["user_count"] / len(counts), rtol=RTOL)

    summary = table(warehouse, "select * from mart_user_activity_summary").iloc[0]
    descending = np.sort(counts.to_numpy())[::-1]
    for q, column in [(0.25, "p25"), (0.5, "median"), (0.75, "p75"), (0.9, "p90"), (0.99, "p99")]:
        assert summary[f"{column}_ratings_per_user"] == pytest.approx(np.quantile(counts, q), rel=RTOL), column
    assert summary["top_1pct_user_count"] == 10 and summary["top_10pct_user_count"] == 95  # ceil(9.43), ceil(94.3)
    assert summary["top_1pct_rating_share"] == pytest.approx(descending[:10].sum() / len(ratings), rel=RTOL)
    assert summary["top_10pct_rating_share"] == pytest.approx(descending[:95].sum() / len(ratings), rel=RTOL)
    assert summary["gini_coefficient"] == pytest.approx(gini(counts.to_numpy()), rel=1e-9)
    assert (summary["min_ratings_per_user"], summary["max_ratings_per_user"]) == (20, 737)


def test_long_tail_curve_head_and_gini(warehouse, ratings):
    curve = table(warehouse, "select * from mart_long_tail order by popularity_rank")
    expected = movie_stats(ratings)
    assert list(curve["movie_id"]) == list(expected["movie_id"])
    np.testing.assert_allclose(curve["cumulative_rating_share"], expected["cumulative_rating_share"], rtol=RTOL)
    np.testing.assert_allclose(curve["cumulative_movie_share"], np.arange(1, 1683) / 1682, rtol=RTOL)
    assert curve["cumulative_rating_share"].is_monotonic_increasing
    assert curve["cumulative_rating_share"].iloc[-1] == pytest.approx(1.0, abs=1e-12)

    summary = table(warehouse, "select * from mart_long_tail_summary").iloc[0]
    head = expected[expected["is_head"]]
    assert (
        summary["head_movie_count"]
        == len(head)
        == int(np.searchsorted(expected["cumulative_rating_share"], HEAD_SHARE) + 1)
    )
    assert summary["head_rating_share"] == pytest.approx(head["rating_count"].sum() / len(ratings), rel=RTOL)
    assert summary["head_rating_share"] >= HEAD_SHARE > head["rating_count"].iloc[:-1].sum() / len(ratings)
    assert summary["gini_coefficient"] == pytest.approx(gini(expected["rating_count"].to_numpy()), rel=1e-9)
    assert summary["gini_coefficient"] == pytest.approx(0.629, abs=0.001)


def test_top_movies(warehouse, ratings):
    mart = table(warehouse, "select * from mart_top_movies")
    stats = movie_stats(ratings)
    most_rated = mart[mart["list_name"] == "most_rated"].sort_values("rank")
    assert list(most_rated["movie_id"]) == list(stats["movie_id"].head(TOP_N))
    best = stats[stats["rating_count"] >= TOP_MIN_RATINGS].sort_values(
        ["damped_mean_rating", "rating_count", "movie_id"], ascending=[False, False, True]
    )
    best_rated = mart[mart["list_name"] == "best_rated"].sort_values("rank")
    assert list(best_rated["movie_id"]) == list(best["movie_id"].head(TOP_N))
    assert best_rated["movie_id"].iloc[0] == 318  # Schindler's List
    assert list(best_rated["rank"]) == list(range(1, TOP_N + 1))


def test_release_years(warehouse, ratings):
    mart = table(warehouse, "select * from mart_release_years")
    movies = table(warehouse, "select movie_id, release_year from stg_ingest__movies")
    rated = ratings.merge(movies, on="movie_id", how="left", validate="m:1")
    expected = rated.groupby("release_year", dropna=False).agg(
        rating_count=("rating", "size"), mean_rating=("rating", "mean"), rated_movie_count=("movie_id", "nunique")
    )
    got = mart.set_index("release_year")
    got_known = got[got.index.notna()]
    exp_known = expected[expected.index.notna()]
    assert got_known.loc[exp_known.index, "rating_count"].tolist() == exp_known["rating_count"].tolist()
    assert got_known.loc[exp_known.index, "rated_movie_count"].tolist() == exp_known["rated_movie_count"].tolist()
    np.testing.assert_allclose(got_known.loc[exp_known.index, "mean_rating"], exp_known["mean_rating"], rtol=1e-9)
    assert got["movie_count"].sum() == 1682 and got["rating_count"].sum() == len(ratings)
    assert got["rating_share"].sum() == pytest.approx(1.0, abs=1e-12)


def test_subset_vars_filter_in_the_documented_order(built, ratings, tmp_path):
    """Dates and user sample, then top-N movies with a minimum, then a minimum per user."""
    source, _ = built
    warehouse = tmp_path / source.name  # same file name: DuckDB names the catalog after it
    shutil.copy(source, warehouse)
    subset_vars = {
        "subset_start_date": "1997-10-01",
        "subset_end_date": "1998-03-31",
        "subset_user_fraction": 0.5,
        "subset_top_n_movies": 300,
        "subset_min_ratings_per_movie": 30,
        "subset_min_ratings_per_user": 20,
    }
    mine = [*MARTS, "int_ratings_subset", "fct_ratings", "int_movie_rating_stats", "int_user_rating_stats"]
    # unit tests pin their own vars and ran in the fixture; the data tests run on the subset
    dbt(
        [
            "build",
            "--select",
            *mine,
            "--exclude",
            "test_type:unit",
            "--indirect-selection",
            "cautious",
            "--vars",
            json.dumps(subset_vars),
        ],
        warehouse,
        tmp_path,
    )

    with duckdb.connect(str(warehouse), read_only=True) as con:
        sampled = {
            row[0]
            for row in con.execute(
                "select distinct user_id from raw.ratings where hash(user_id) % 10000 < 5000"
            ).fetchall()
        }
    step1 = ratings[ratings["rated_on"].between("1997-10-01", "1998-03-31") & ratings["user_id"].isin(sampled)]
    movie_counts = step1.groupby("movie_id").size().reset_index(name="n")
    kept_movies = (
        movie_counts[movie_counts["n"] >= 30]
        .sort_values(["n", "movie_id"], ascending=[False, True])
        .head(300)["movie_id"]
    )
    step2 = step1[step1["movie_id"].isin(kept_movies)]
    user_counts = step2.groupby("user_id").size()
    expected = step2[step2["user_id"].isin(user_counts[user_counts >= 20].index)]

    fct = table(warehouse, "select user_id, movie_id from fct_ratings")
    # every filter bites: about half the users, more than 300 movies with 30+ ratings, some users under 20
    assert 0.2 < len(sampled) / 943 < 0.8
    assert (movie_counts["n"] >= 30).sum() > 300 and (movie_counts["n"] < 30).any()
    assert (user_counts < 20).sum() > 0
    assert 5_000 < len(expected) < len(ratings) / 2
    got = set(map(tuple, fct.to_numpy()))
    assert got == set(map(tuple, expected[["user_id", "movie_id"]].to_numpy()))
    # the marts follow the subset
    dim = table(
        warehouse, "select sum(rating_count) as n, count(*) filter (where rating_count > 0) as m from dim_movies"
    )
    assert (dim["n"][0], dim["m"][0]) == (len(expected), expected["movie_id"].nunique())
    assert (
        table(warehouse, "select user_count from mart_user_activity_summary")["user_count"][0]
        == expected["user_id"].nunique()
    )
