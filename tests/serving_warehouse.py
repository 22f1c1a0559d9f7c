"""Tiny serving warehouses built directly with SQL (no dbt), for the API and HTTP tests.

`build_warehouse` writes the tables movierec.serving reads: fct_ratings, dim_movies, dim_users,
user_factors, movie_factors, model_runs and the serving marts serving_config,
serving_user_ratings, popular_movies, with the same definitions as models/marts/serving (in
a few lines of SQL each). `HAND_EXAMPLE` is the example of the dbt unit test of
user_recommendations, so the Python API and the SQL model are checked against the same answer.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from movierec.models.base import FactorModel


@dataclass
class ModelRows:
    """One model's factor tables, as user_factors / movie_factors / model_runs hold them."""

    name: str
    user_ids: list
    user_bias: list
    user_factors: list | None  # rows of k floats, or None for a bias-only model
    movie_ids: list
    movie_bias: list
    movie_factors: list | None
    global_mean: float = 0.0
    hyperparameters: dict = field(default_factory=dict)
    train_rmse: float | None = None

    @classmethod
    def from_model(cls, model: FactorModel, name: str | None = None) -> "ModelRows":
        train = model.train
        k = model.factor_columns
        return cls(
            name=name or model.name,
            user_ids=[int(u) for u in train.user_ids],
            user_bias=[float(b) for b in (model.user_bias if len(model.user_bias) else np.zeros(train.n_users))],
            user_factors=model.user_factors.tolist() if k else None,
            movie_ids=[int(m) for m in train.movie_ids],
            movie_bias=[float(b) for b in (model.movie_bias if len(model.movie_bias) else np.zeros(train.n_movies))],
            movie_factors=model.movie_factors.tolist() if k else None,
            global_mean=float(model.global_mean),
            hyperparameters=model.hyperparameters(),
            train_rmse=model.train_rmse,
        )


def build_warehouse(path: Path, *, ratings: list[tuple], movies: list[tuple], models: list[ModelRows],
                    serving_model: str, k: int = 10, min_user_ratings: int = 2, similar_k: int = 10,
                    similar_min_ratings: int = 0, reason_min_rating: float = 4.0) -> Path:
    """ratings: (user_id, movie_id, rating); movies: (movie_id, title, release_year)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    factor_k = max((len(m.movie_factors[0]) for m in models if m.movie_factors), default=2)
    with duckdb.connect(str(path)) as con:
        con.register("ratings_in", pa.table({
            "user_id": pa.array([r[0] for r in ratings], pa.int32()),
            "movie_id": pa.array([r[1] for r in ratings], pa.int32()),
            "rating": pa.array([float(r[2]) for r in ratings], pa.float64())}))
        con.register("movies_in", pa.table({
            "movie_id": pa.array([m[0] for m in movies], pa.int32()),
            "title": pa.array([m[1] for m in movies], pa.string()),
            "release_year": pa.array([m[2] for m in movies], pa.int32())}))
        con.execute("""
            create or replace table fct_ratings as
            select user_id, movie_id, rating, date '2005-01-01' as rated_on from ratings_in;
            create or replace table dim_movies as
            select movies_in.movie_id, title, release_year, coalesce(count(fct_ratings.movie_id), 0) as rating_count
            from movies_in left join fct_ratings on movies_in.movie_id = fct_ratings.movie_id
            group by all;
            create or replace table dim_users as
            select user_id, count(*) as rating_count from fct_ratings group by user_id;
        """)
        con.execute(f"""
            create or replace table user_factors (model_name varchar, user_id integer, bias double, factors float[{factor_k}]);
            create or replace table movie_factors (model_name varchar, movie_id integer, bias double, factors float[{factor_k}]);
            create or replace table model_runs (model_name varchar, hyperparameters json, fit_seconds double,
                train_rmse double, train_ratings bigint, global_mean double);
        """)
        for m in models:
            for side, ids, bias, factors in (("user", m.user_ids, m.user_bias, m.user_factors),
                                             ("movie", m.movie_ids, m.movie_bias, m.movie_factors)):
                flat = (pa.FixedSizeListArray.from_arrays(pa.array(np.asarray(factors, np.float32).ravel()), factor_k)
                        if factors is not None else pa.nulls(len(ids), pa.list_(pa.float32(), factor_k)))
                con.register("side_in", pa.table({"model_name": pa.array([m.name] * len(ids)),
                                                  "id": pa.array(ids, pa.int32()),
                                                  "bias": pa.array(bias, pa.float64()), "factors": flat}))
                con.execute(f"insert into {side}_factors select * from side_in")
                con.unregister("side_in")
            con.execute("insert into model_runs values (?, ?, 0.1, ?, ?, ?)",
                        [m.name, json.dumps(m.hyperparameters), m.train_rmse, len(ratings), m.global_mean])
        con.execute("""
            create or replace table serving_user_ratings as
            select user_id, movie_id, rating from fct_ratings order by user_id, movie_id;
            create or replace table popular_movies as
            select row_number() over (order by rating_count desc, movie_id) as popularity_rank, movie_id, title,
                release_year, rating_count, rating_count / (select count(*) from dim_users) as score
            from dim_movies where rating_count > 0 order by popularity_rank;
        """)
        run = {m.name: m for m in models}
        chosen = serving_model if serving_model in run else None
        con.execute("""
            create or replace table serving_config as
            select ? as model_name, ? as requested_model_name, ? as is_requested_model, ? as has_factors,
                ? as factor_count, ? as global_mean, ?::json as hyperparameters, 'sql' as recommendations_engine,
                ? as recommendations_k, ? as recommendations_min_user_ratings, ? as similar_movies_k,
                ? as similar_movies_min_ratings, ? as reason_min_rating,
                (select min(rating) from fct_ratings) as rating_min, (select max(rating) from fct_ratings) as rating_max
        """, [chosen, serving_model, chosen is not None,
              bool(chosen and run[chosen].movie_factors is not None), factor_k if chosen else 0,
              run[chosen].global_mean if chosen else 0.0, json.dumps(run[chosen].hyperparameters) if chosen else None,
              k, min_user_ratings, similar_k, similar_min_ratings, float(reason_min_rating)])
    return path


# The example of the dbt unit test `user_recommendations_exclude_rated_movies_and_break_ties_by_movie_id`
# (models/marts/serving/_serving.yml), plus a few titles with quotes and SQL metacharacters.
HAND_MOVIES = [
    (10, "Alpha", 2001), (20, "Beta", 2002), (30, "Charlie", 2003), (40, "Delta", 2004),
    (50, "Echo", 2005), (60, "Foxtrot", 2006), (70, "Gamma", None),
    (80, "It's a \"Wonderful\" Life", 1946), (90, "100% Pure_Fun", 2000),
    (95, "'; drop table dim_movies; --", 2010), (99, "Amélie", 2001),
]
HAND_RATINGS = [
    (1, 10, 5.0), (1, 30, 2.0),
    (2, 40, 4.0), (2, 50, 1.0), (2, 70, 5.0),
    (3, 10, 3.0),
    (4, 20, 4.0), (4, 30, 4.0),
]
# popularity: 10 > 20 > 30 > 40 > 50 > 60 > 70 by count, as the unit test's popular_movies
_POPULARITY_PADDING = [(100 + i, m, 3.0) for m, n in ((10, 9), (20, 8), (30, 7), (40, 6), (50, 5), (60, 4), (70, 3))
                       for i in range(n)]


def hand_example(path: Path, **settings) -> Path:
    """The unit-test example as a warehouse. Users 100+ only make popularity 10 > 20 > ... > 70 (they
    are not in the model, so they get the fallback)."""
    mf = ModelRows(
        name="biased_mf", global_mean=3.0, hyperparameters={"k": 2, "reg": 0.1, "reg_bias": 0.1, "weighted_reg": False},
        user_ids=[1, 2, 3], user_bias=[0.0, 0.5, 0.0], user_factors=[[1, 0], [1, 0], [0, 1]],
        movie_ids=[10, 20, 30, 40, 50, 60, 70], movie_bias=[0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0],
        movie_factors=[[1, 0], [1, 0], [0, 1], [0.5, 0.5], [-1, 0], [0, 0], [0, 1]],
    )
    baseline = ModelRows(name="bias_only", global_mean=3.0, hyperparameters={"reg_user": 2.0},
                         user_ids=[1, 2, 3], user_bias=[0.1, 0.2, 0.3], user_factors=None,
                         movie_ids=[10, 20, 30, 40, 50, 60, 70], movie_bias=[0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
                         movie_factors=None)
    options = {"k": 3, "min_user_ratings": 2, "similar_k": 2, "similar_min_ratings": 0}
    options.update(settings)
    return build_warehouse(path, ratings=HAND_RATINGS + _POPULARITY_PADDING, movies=HAND_MOVIES,
                           models=[mf, baseline], serving_model="biased_mf", **options)


class Writer:
    """Another process holding the warehouse open read-write (what `dbt build` does), until `release()`.
    `sql` runs first (e.g. to change data as a rebuild would)."""

    def __init__(self, path: Path, sql: str = "") -> None:
        code = textwrap.dedent(f"""
            import sys, duckdb
            con = duckdb.connect({str(path)!r})
            sql = {sql!r}
            if sql:
                con.execute(sql)
                con.execute("checkpoint")
            print("locked", flush=True)
            sys.stdin.readline()
            con.close()
        """)
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "locked":
            raise RuntimeError(f"writer failed: {line}{self.proc.stderr.read()}")

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=30)

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def can_open_for_writing(path: Path) -> bool:
    """Whether another process could open the warehouse read-write right now (as dbt would)."""
    code = f"import duckdb; duckdb.connect({str(path)!r}).close()"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
