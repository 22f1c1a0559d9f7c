"""Tiny serving warehouses for the API and HTTP tests, built by the project's own dbt models.

`build_warehouse` writes what an ingestion and the fits would leave: the raw tables (raw.ratings,
raw.movies, raw.dataset; the DDL of movierec.ingest) and one artifact table per model in the
format of movierec.models.export (standing in for a `fit_<name>` model: the rows keep the model's
own name). Then `dbt run` builds the tables movierec.serving reads with the same SQL as a real
build: fct_ratings, dim_movies (with its label), dim_users, user_factors, movie_factors,
model_runs, serving_config, serving_user_ratings and popular_movies. A warehouse is built once
per distinct set of arguments in a test session and copied for each further call (one dbt run
is about 10 s; four such sets in the suite). `HAND_EXAMPLE` is the example of the dbt unit test
of user_recommendations, so the Python API and the SQL model are checked against the same answer.
"""

from __future__ import annotations

import atexit
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from movierec.ingest.common import RAW_DDL
from movierec.models.base import FactorModel
from movierec.models.export import artifact_schema
from tests.conftest import run_dbt

# The serving tables and everything they are built from (no fit, no evaluation, no report).
SERVING_BUILD = [
    "stg_ingest__ratings",
    "stg_ingest__movies",
    "stg_ingest__movie_genres",
    "int_ratings_subset",
    "int_movie_rating_stats",
    "int_user_rating_stats",
    "fct_ratings",
    "dim_movie_genres",
    "dim_movies",
    "dim_users",
    "movie_factors",
    "user_factors",
    "model_runs",
    "serving_config",
    "serving_user_ratings",
    "popular_movies",
]
# dbt's union of artifacts reads `fit_<name>` for each name of var `recommenders`: the tables
# written here take these slots, in order (a model named like a slot takes its own).
FIT_SLOTS = ["biased_mf", "bias_baseline", "ials", "truncated_svd", "ease", "bayesian_mf"]


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
    def from_model(cls, model: FactorModel, name: str | None = None) -> ModelRows:
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

    def artifacts(self, factor_k: int, train_ratings: int) -> pa.Table:
        """The model's run and factor rows in the artifact table of a fit (movierec.models.export)."""
        schema = artifact_schema(factor_k)

        def rows(n: int, **values) -> pa.Table:
            return pa.Table.from_arrays(
                [values[f.name] if f.name in values else pa.nulls(n, f.type) for f in schema], schema=schema
            )

        parts = [
            rows(
                1,
                record=pa.array(["run"]),
                model_name=pa.array([self.name]),
                bias=pa.array([self.global_mean], pa.float64()),
                hyperparameters=pa.array([json.dumps(self.hyperparameters)]),
                fit_seconds=pa.array([0.1]),
                train_rmse=pa.array([self.train_rmse], pa.float64()),
                train_ratings=pa.array([train_ratings], pa.int64()),
            )
        ]
        for side, ids, bias, factors in (
            ("user", self.user_ids, self.user_bias, self.user_factors),
            ("movie", self.movie_ids, self.movie_bias, self.movie_factors),
        ):
            n = len(ids)
            if factors is None:
                factor_array = pa.nulls(n, schema.field("factors").type)
            else:
                padded = np.zeros((n, factor_k), dtype=np.float32)
                values = np.asarray(factors, dtype=np.float32)
                padded[:, : values.shape[1]] = values
                factor_array = pa.FixedSizeListArray.from_arrays(pa.array(padded.ravel()), factor_k)
            parts.append(
                rows(
                    n,
                    record=pa.array([side] * n),
                    model_name=pa.array([self.name] * n),
                    **{f"{side}_id": pa.array(ids, pa.int32())},
                    bias=pa.array(bias, pa.float64()),
                    factors=factor_array,
                )
            )
        return pa.concat_tables(parts)


_built: dict[str, Path] = {}
_cache = Path(tempfile.mkdtemp(prefix="serving_warehouses_"))
atexit.register(shutil.rmtree, _cache, True)


def build_warehouse(
    path: Path,
    *,
    ratings: list[tuple],
    movies: list[tuple],
    models: list[ModelRows],
    serving_model: str,
    k: int = 10,
    min_user_ratings: int = 2,
    similar_k: int = 10,
    similar_min_ratings: int = 0,
    reason_min_rating: float = 4.0,
) -> Path:
    """ratings: (user_id, movie_id, rating); movies: (movie_id, title, release_year)."""
    settings = dict(
        ratings=ratings,
        movies=movies,
        models=[asdict(m) for m in models],
        serving_model=serving_model,
        k=k,
        min_user_ratings=min_user_ratings,
        similar_k=similar_k,
        similar_min_ratings=similar_min_ratings,
        reason_min_rating=reason_min_rating,
    )
    key = json.dumps(settings, sort_keys=True, default=str)
    if key not in _built:
        _built[key] = _build(
            _cache / f"w{len(_built)}",
            ratings,
            movies,
            models,
            serving_model,
            k,
            min_user_ratings,
            similar_k,
            similar_min_ratings,
            reason_min_rating,
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_built[key], path)
    return path


def _build(
    folder: Path,
    ratings,
    movies,
    models,
    serving_model,
    k,
    min_user_ratings,
    similar_k,
    similar_min_ratings,
    reason_min_rating,
) -> Path:
    folder.mkdir(parents=True)
    path = folder / "warehouse.duckdb"
    factor_k = max((len(m.movie_factors[0]) for m in models if m.movie_factors), default=2)
    slots = [m.name if m.name in FIT_SLOTS else None for m in models]
    free = iter(s for s in FIT_SLOTS if s not in slots)
    slots = [slot or next(free) for slot in slots]
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute(RAW_DDL.replace("__loading", ""))
        # ingest stores star ratings as FLOAT; some tests rate with arbitrary doubles (stg casts to double)
        con.execute("alter table raw.ratings alter rating type double")
        con.register(
            "ratings_in",
            pa.table(
                {
                    "user_id": pa.array([r[0] for r in ratings], pa.int32()),
                    "movie_id": pa.array([r[1] for r in ratings], pa.int32()),
                    "rating": pa.array([float(r[2]) for r in ratings], pa.float64()),
                }
            ),
        )
        con.register(
            "movies_in",
            pa.table(
                {
                    "movie_id": pa.array([m[0] for m in movies], pa.int32()),
                    "title": pa.array([m[1] for m in movies], pa.string()),
                    "release_year": pa.array([m[2] for m in movies], pa.int32()),
                }
            ),
        )
        con.execute("""
            insert into raw.ratings
            select movie_id, user_id, rating, date '2005-01-01', null, 1, row_number() over () from ratings_in;
            insert into raw.movies select movie_id, title, release_year, null from movies_in;
            insert into raw.dataset
            select 'csv', 'tests', 'tests/serving_warehouse.py', min(rating), max(rating), 'latest date wins',
                count(*), count(distinct user_id), count(distinct movie_id), true, date '1995-01-01', current_date
            from raw.ratings;
        """)
        for model, slot in zip(models, slots):
            con.register("artifacts_in", model.artifacts(factor_k, len(ratings)))
            con.execute(f"create table main.fit_{slot} as select * from artifacts_in")
            con.unregister("artifacts_in")
    variables = {
        "recommenders": slots,
        "serving_model": serving_model,
        "factors": factor_k,
        "recommendations_engine": "sql",
        "recommendations_k": k,
        "recommendations_min_user_ratings": min_user_ratings,
        "similar_movies_k": similar_k,
        "similar_movies_min_ratings": similar_min_ratings,
        "reason_min_rating": float(reason_min_rating),
    }
    run_dbt(["run", "--quiet", "--select", *SERVING_BUILD, "--vars", json.dumps(variables)], path, folder)
    with duckdb.connect(str(path)) as con:
        # the views name the template's catalog: a copy under another name could not read them
        for (view,) in con.execute("select view_name from duckdb_views() where not internal").fetchall():
            con.execute(f'drop view main."{view}"')
        con.execute("checkpoint")
    return path


# The example of the dbt unit test `user_recommendations_exclude_rated_movies_and_break_ties_by_movie_id`
# (models/serving/_serving.yml), plus a few titles with quotes and SQL metacharacters.
HAND_MOVIES = [
    (10, "Alpha", 2001),
    (20, "Beta", 2002),
    (30, "Charlie", 2003),
    (40, "Delta", 2004),
    (50, "Echo", 2005),
    (60, "Foxtrot", 2006),
    (70, "Gamma", None),
    (80, 'It\'s a "Wonderful" Life', 1946),
    (90, "100% Pure_Fun", 2000),
    (95, "'; drop table dim_movies; --", 2010),
    (99, "Amélie", 2001),
]
HAND_RATINGS = [
    (1, 10, 5.0),
    (1, 30, 2.0),
    (2, 40, 4.0),
    (2, 50, 1.0),
    (2, 70, 5.0),
    (3, 10, 3.0),
    (4, 20, 4.0),
    (4, 30, 4.0),
]
# popularity: 10 > 20 > 30 > 40 > 50 > 60 > 70 by count, as the unit test's popular_movies
_POPULARITY_PADDING = [
    (100 + i, m, 3.0) for m, n in ((10, 9), (20, 8), (30, 7), (40, 6), (50, 5), (60, 4), (70, 3)) for i in range(n)
]


def hand_example(path: Path, **settings) -> Path:
    """The unit-test example as a warehouse. Users 100+ only make popularity 10 > 20 > ... > 70 (they
    are not in the model, so they get the fallback)."""
    mf = ModelRows(
        name="biased_mf",
        global_mean=3.0,
        hyperparameters={"k": 2, "reg": 0.1, "reg_bias": 0.1, "weighted_reg": False},
        user_ids=[1, 2, 3],
        user_bias=[0.0, 0.5, 0.0],
        user_factors=[[1, 0], [1, 0], [0, 1]],
        movie_ids=[10, 20, 30, 40, 50, 60, 70],
        movie_bias=[0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0],
        movie_factors=[[1, 0], [1, 0], [0, 1], [0.5, 0.5], [-1, 0], [0, 0], [0, 1]],
    )
    baseline = ModelRows(
        name="bias_only",
        global_mean=3.0,
        hyperparameters={"reg_user": 2.0},
        user_ids=[1, 2, 3],
        user_bias=[0.1, 0.2, 0.3],
        user_factors=None,
        movie_ids=[10, 20, 30, 40, 50, 60, 70],
        movie_bias=[0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
        movie_factors=None,
    )
    options = {"k": 3, "min_user_ratings": 2, "similar_k": 2, "similar_min_ratings": 0}
    options.update(settings)
    return build_warehouse(
        path,
        ratings=HAND_RATINGS + _POPULARITY_PADDING,
        movies=HAND_MOVIES,
        models=[mf, baseline],
        serving_model="biased_mf",
        **options,
    )


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
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if line.strip() != "locked":
            raise RuntimeError(f"writer failed: {line}{self.proc.stderr.read()}")

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=30)

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def can_open_for_writing(path: Path) -> bool:
    """Whether another process could open the warehouse read-write right now (as dbt would)."""
    code = f"import duckdb; duckdb.connect({str(path)!r}).close()"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
