"""The generic format end to end: files shaped like the two Kaggle Netflix subsets load with a
`--columns` mapping and `dbt build` passes on them (no dates: the random split); bad vars and an
un-ingested warehouse stop the build at its start with one clear line each."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from movierec.ingest import ingest
from tests.conftest import PROJECT_ROOT, query, run_dbt

pytestmark = pytest.mark.slow


def kaggle_rows(seed: int = 7) -> list[tuple[int, int, int]]:
    """(user, movie, rating): 60 users x 40 movies, about half rated, Netflix-like customer ids."""
    rng = random.Random(seed)
    return [(u * 17 + 1000, m, rng.randint(1, 5)) for u in range(1, 61) for m in range(1, 41) if rng.random() < 0.5]


def dbt_fails(args: list[str], warehouse: Path, tmp: Path) -> str:
    env = {**os.environ, "MOVIEREC_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    cmd = [
        str(Path(sys.executable).parent / "dbt"),
        *args,
        "--target-path",
        str(tmp / "target"),
        "--log-path",
        str(tmp / "logs"),
    ]
    result = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0, result.stdout[-3000:]
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def kaggle_rating_csv(tmp_path_factory) -> Path:
    """Netflix_Dataset_Rating.csv (`User_ID,Rating,Movie_ID`) and Netflix_Dataset_Movie.csv
    (`Movie_ID,Year,Name`), ingested and built."""
    tmp = tmp_path_factory.mktemp("kaggle_csv")
    with open(tmp / "Netflix_Dataset_Rating.csv", "w") as f:
        f.write("User_ID,Rating,Movie_ID\n")
        f.writelines(f"{u},{r},{m}\n" for u, m, r in kaggle_rows())
    with open(tmp / "Netflix_Dataset_Movie.csv", "w") as f:
        f.write("Movie_ID,Year,Name\n")
        f.writelines(f"{m},{1990 + m % 15},Movie {m}, part {m % 3}\n" for m in range(1, 41))
    warehouse = tmp / "movierec.duckdb"
    ingest(
        tmp / "Netflix_Dataset_Rating.csv",
        fmt="csv",
        columns="user=User_ID,movie=Movie_ID,rating=Rating",
        titles=tmp / "Netflix_Dataset_Movie.csv",
        warehouse=warehouse,
        quiet=True,
    )
    run_dbt(["build"], warehouse, tmp)
    return warehouse


def test_netflix_dataset_rating_layout_builds(kaggle_rating_csv):
    warehouse = kaggle_rating_csv
    n = len(kaggle_rows())
    assert query(warehouse, "select count(*), count(rated_on) from fct_ratings") == [(n, 0)]
    splits = dict(query(warehouse, "select split, count(*) from int_ratings_split group by split"))
    assert query(warehouse, "select distinct split_strategy from int_ratings_split") == [("random",)]
    assert splits["test"] > 0 and splits["train"] + splits["test"] == n
    assert query(warehouse, "select title from dim_movies where movie_id = 7") == [("Movie 7, part 1",)]
    assert query(warehouse, "select count(distinct model_name) from model_metrics where metric = 'rmse'")[0][0] >= 5
    assert query(warehouse, "select count(*) from user_recommendations")[0][0] > 0


def test_testing_ratings_layout_builds(tmp_path):
    path = tmp_path / "TestingRatings.txt"
    path.write_bytes(b"".join(f"{m},{u},{r}\r\n".encode() for u, m, r in kaggle_rows(seed=11)))
    warehouse = tmp_path / "movierec.duckdb"
    ingest(path, fmt="csv", columns="movie=1,user=2,rating=3", warehouse=warehouse, quiet=True)
    run_dbt(["build"], warehouse, tmp_path)
    assert query(warehouse, "select count(*) from fct_ratings") == [(len(kaggle_rows(seed=11)),)]
    assert query(warehouse, "select count(*) from user_recommendations")[0][0] > 0


def test_bad_vars_stop_the_build_with_one_line_each(kaggle_rating_csv, tmp_path):
    before = query(kaggle_rating_csv, "select count(*) from fct_ratings")
    out = dbt_fails(
        [
            "build",
            "--vars",
            "{mf_reg: -1, subset_min_ratings_per_movie: abc, split_strategy: fold, "
            "eval_max_users: -1, subset_start_date: '2005-13-01', "
            'subset_end_date: "2005-01-01\'; drop table raw.ratings; --"}',
        ],
        kaggle_rating_csv,
        tmp_path,
    )
    assert "movierec: 6 bad vars" in out
    for line in [
        "mf_reg = -1: must be a number > 0",
        "subset_min_ratings_per_movie = 'abc': must be a whole number >= 0",
        "split_strategy = 'fold': the ingested data has no MovieLens fold u1",
        "eval_max_users = -1: must be a whole number >= 1",
        "subset_start_date = '2005-13-01': not a calendar date",
        "subset_end_date = '2005-01-01'; drop table raw.ratings; --': must be a date 'YYYY-MM-DD' or null",
    ]:
        assert line in out, line
    assert query(kaggle_rating_csv, "select count(*) from fct_ratings") == before  # nothing was built
    out = dbt_fails(["build", "--vars", "{split_strategy: latest}"], kaggle_rating_csv, tmp_path)
    assert "split_strategy = 'latest': the ingested ratings have no dates" in out


def test_build_on_a_warehouse_without_ingested_data_says_to_ingest(tmp_path):
    warehouse = tmp_path / "empty.duckdb"
    duckdb.connect(str(warehouse)).close()
    out = dbt_fails(["build"], warehouse, tmp_path)
    assert "holds no ingested ratings (no table raw.ratings): run `movierec ingest <folder>`" in out
    assert "does not exist!" not in out
