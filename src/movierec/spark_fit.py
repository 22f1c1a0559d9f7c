"""Fitting on Spark (issue 15): `movierec fit-spark`, the step after `dbt build --target spark`.

dbt-spark runs dbt Python models only on Databricks (its submission methods are Databricks
clusters and jobs), so on a local or Thrift Spark the factor models are fitted by this step,
which reads the split dbt built (movierec.int_ratings_train / int_ratings_test in the Spark
catalog) and writes one artifact table per model, `movierec.fit_<name>_spark`, in the layout of
the DuckDB fit models (movierec.models.export: `run`, `user`, `movie`, `prediction` and
`recommendation` records; factors as array<float>): what movie_factors, user_factors,
model_runs and the evaluation marts select, on both engines:

    bias_baseline   mu + b_u + b_i in Spark SQL, the alternating exact updates of
                    movierec.models.baselines.BiasBaseline (movies first, `epochs` sweeps):
                    the same numbers as DuckDB's fit, to float rounding
    biased_mf       Spark MLlib ALS (explicit) on the bias-removed ratings r - mu - b_u - b_i,
                    rank `factors`, regParam `mf_reg` (MLlib scales it by each user's and movie's
                    count, as movierec.models.mf does), `mf_epochs` iterations
    ials            Spark MLlib ALS with implicitPrefs on the training pairs: confidence
                    1 + alpha for a rated pair against 1 for an unrated one, alpha = 1 / w0 - 1 so
                    that the ratio of the two weights is movierec's (`ials_unobserved_weight` w0)

Predictions are clipped to the training ratings' range, as movierec's models do; a user or movie
the fit has not seen gets the baseline alone. Every model also writes its `recommendation`
records, as movierec.models.export does: for the evaluation users (test users known to training,
at most `eval_max_users`, the first by the same fixed hash of the id), the `top_k` training movies
the user has not rated, by the unclipped score mu + b_u + b_i + p_u . q_i, equal scores by the
smaller movie_id. The settings are dbt_project.yml's vars. The serving and evaluation marts read
these tables in a second `dbt build` (source spark_fit; README "Beyond one machine").
Not on Spark: the other models (EASE and kNN need item x item matrices, the Bayesian ones Gibbs
sampling).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import yaml

from movierec.ingest.parquet import spark_dir

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "movierec"


def spark_conf(folder: Path | None = None) -> dict[str, str]:
    """The SparkSession settings of profiles.yml's `spark` output (keep the two in step): local[2]
    unless MOVIEREC_SPARK_MASTER names another master (spark://host:7077, yarn, k8s://...).
    The folder holds a local Derby metastore, so it must be a local path, not a URL."""
    if folder is None and "://" in os.environ.get("MOVIEREC_SPARK_DIR", ""):
        raise ValueError(
            f"MOVIEREC_SPARK_DIR={os.environ['MOVIEREC_SPARK_DIR']} is a URL: fit-spark keeps its tables and "
            "its Derby metastore in a local folder; set MOVIEREC_SPARK_DIR to one"
        )
    folder = Path(folder or spark_dir())
    return {
        "spark.master": os.environ.get("MOVIEREC_SPARK_MASTER", "local[2]"),
        "spark.app.name": "movierec-fit",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "2",
        "spark.driver.memory": os.environ.get("MOVIEREC_SPARK_MEMORY", "2g"),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "false",
        "spark.sql.warehouse.dir": str(folder / "tables"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={folder}/metastore_db;create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={folder} "
        f"-Dlog4j2.configurationFile={PROJECT_ROOT / 'spark' / 'log4j2.properties'}",
    }


def spark_session(folder: Path | None = None):
    """A local SparkSession on the Spark target's catalog (the metastore dbt wrote to)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_conf(folder).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def project_vars(overrides: dict | None = None) -> dict:
    """dbt_project.yml's vars, with `overrides` (the same names) on top."""
    values = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]
    values.update(overrides or {})
    return values


def _bias_sql(mu: float, reg_user: float, reg_movie: float, epochs: int) -> list[tuple[str, str]]:
    """The temp views of the alternating bias updates, as (view, SQL) in order."""
    steps = [("user_bias_0", "select distinct user_id, cast(0.0 as double) as bias from train")]
    for sweep in range(1, epochs + 1):
        steps.append(
            (
                f"movie_bias_{sweep}",
                f"""select train.movie_id, sum(train.rating - {mu!r} - user_bias.bias) / ({reg_movie!r} + count(*)) as bias
                    from train inner join user_bias_{sweep - 1} as user_bias on train.user_id = user_bias.user_id
                    group by train.movie_id""",
            )
        )
        steps.append(
            (
                f"user_bias_{sweep}",
                f"""select train.user_id, sum(train.rating - {mu!r} - movie_bias.bias) / ({reg_user!r} + count(*)) as bias
                    from train inner join movie_bias_{sweep} as movie_bias on train.movie_id = movie_bias.movie_id
                    group by train.user_id""",
            )
        )
    return steps


def fit_spark(settings: dict | None = None, folder: Path | None = None, say=print) -> dict[str, dict]:
    """Fit bias_baseline, biased_mf and ials on the Spark catalog's split; write movierec.fit_<name>_spark.

    Returns {model: {"probe_rmse": ..., "fit_seconds": ..., "train_rmse": ...}}."""
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F

    settings = project_vars(settings)
    spark = spark_session(folder)
    train = spark.table(f"{SCHEMA}.int_ratings_train").select("user_id", "movie_id", F.col("rating").cast("double"))
    test = spark.table(f"{SCHEMA}.int_ratings_test").select("user_id", "movie_id", F.col("rating").cast("double"))
    train = train.localCheckpoint()
    train.createOrReplaceTempView("train")
    test.createOrReplaceTempView("test")
    stats = spark.sql("select avg(rating), min(rating), max(rating), count(*) from train").first()
    mu, low, high, n_train = float(stats[0]), float(stats[1]), float(stats[2]), int(stats[3])
    say(f"fit-spark: {n_train:,} training ratings, mean {mu:.4f}")
    factors = int(settings["factors"])
    _evaluation_users(spark, settings.get("eval_max_users"))
    results = {}

    # bias baseline, in Spark SQL
    started = time.perf_counter()
    epochs = 10
    for view, sql in _bias_sql(mu, float(settings["bias_reg_user"]), float(settings["bias_reg_movie"]), epochs):
        spark.sql(sql).localCheckpoint().createOrReplaceTempView(view)
    spark.table(f"user_bias_{epochs}").createOrReplaceTempView("user_bias")
    spark.table(f"movie_bias_{epochs}").createOrReplaceTempView("movie_bias")
    baseline_seconds = time.perf_counter() - started
    spark.sql(
        f"""select train.user_id, train.movie_id, train.rating,
                   train.rating - {mu!r} - coalesce(user_bias.bias, 0) - coalesce(movie_bias.bias, 0) as residual
            from train
            left join user_bias on train.user_id = user_bias.user_id
            left join movie_bias on train.movie_id = movie_bias.movie_id"""
    ).localCheckpoint().createOrReplaceTempView("residuals")
    hyper = {
        "reg_user": float(settings["bias_reg_user"]),
        "reg_movie": float(settings["bias_reg_movie"]),
        "epochs": epochs,
    }
    results["bias_baseline"] = _write_model(
        spark,
        "bias_baseline",
        mu,
        low,
        high,
        hyper,
        baseline_seconds,
        n_train,
        factors,
        user_factors=None,
        movie_factors=None,
        top_k=int(settings["top_k"]),
    )

    # biased MF: MLlib ALS (explicit) on the bias-removed ratings
    started = time.perf_counter()
    als = ALS(
        rank=factors,
        maxIter=int(settings["mf_epochs"]),
        regParam=float(settings["mf_reg"]),
        userCol="user_id",
        itemCol="movie_id",
        ratingCol="residual",
        seed=int(settings["seed"]),
        coldStartStrategy="nan",
    )
    model = als.fit(spark.table("residuals"))
    user_f, movie_f = model.userFactors.localCheckpoint(), model.itemFactors.localCheckpoint()
    hyper = {
        "factors": factors,
        "reg": float(settings["mf_reg"]),
        "epochs": int(settings["mf_epochs"]),
        "engine": "mllib_als",
    }
    results["biased_mf"] = _write_model(
        spark, "biased_mf", mu, low, high, hyper, time.perf_counter() - started + baseline_seconds, n_train, factors,
        user_factors=user_f, movie_factors=movie_f, top_k=int(settings["top_k"]),
    )  # fmt: skip

    # iALS: MLlib ALS with implicitPrefs on the training pairs
    started = time.perf_counter()
    w0 = float(settings["ials_unobserved_weight"])
    ials = ALS(
        rank=factors,
        maxIter=int(settings["ials_iterations"]),
        regParam=float(settings["ials_reg"]),
        implicitPrefs=True,
        alpha=1.0 / w0 - 1.0,
        userCol="user_id",
        itemCol="movie_id",
        ratingCol="preference",
        seed=int(settings["seed"]),
    )
    model = ials.fit(spark.sql("select user_id, movie_id, 1.0 as preference from train"))
    hyper = {"factors": factors, "reg": float(settings["ials_reg"]), "unobserved_weight": w0,
             "iterations": int(settings["ials_iterations"]), "engine": "mllib_als_implicit"}  # fmt: skip
    results["ials"] = _write_model(
        spark, "ials", None, low, high, hyper, time.perf_counter() - started, n_train, factors,
        user_factors=model.userFactors.localCheckpoint(), movie_factors=model.itemFactors.localCheckpoint(),
        predicts=False, top_k=int(settings["top_k"]),
    )  # fmt: skip
    for name, figures in results.items():
        rmse = "" if figures["probe_rmse"] is None else f", probe RMSE {figures['probe_rmse']:.4f}"
        say(f"fit-spark: {name}: {figures['fit_seconds']:.1f} s{rmse} -> {SCHEMA}.fit_{name}_spark")
    return results


def _evaluation_users(spark, max_users) -> None:
    """The temp view `evaluation_users`: movierec.models.export.evaluation_users in Spark SQL (test
    users known to training, the first `max_users` by (user_id * 2654435761) mod 2^32, ties by id)."""
    limit = "" if max_users in (None, "", "None") else f"where draw_rank <= {int(max_users)}"
    spark.sql(f"""
        select user_id from (
            select user_id, row_number() over (
                order by pmod(cast(user_id as bigint) * 2654435761, 4294967296), user_id) as draw_rank
            from (select distinct user_id from test) as test_users
            left semi join (select distinct user_id from train) as known using (user_id)
        ) as drawn {limit}""").localCheckpoint().createOrReplaceTempView("evaluation_users")


def _write_model(
    spark, name, mu, low, high, hyper, seconds, n_train, factors, user_factors, movie_factors, predicts=True, top_k=10
) -> dict:
    """Write movierec.fit_<name>_spark (the artifact layout) and return its probe RMSE."""
    for view, frame in (("model_user_factors", user_factors), ("model_movie_factors", movie_factors)):
        if frame is None:
            spark.sql(
                "select cast(null as int) as id, cast(null as array<float>) as features where false"
            ).createOrReplaceTempView(view)
        else:
            frame.createOrReplaceTempView(view)
    biased = mu is not None
    mu_sql = repr(mu) if biased else "0.0"
    ub = "coalesce(user_bias.bias, 0)" if biased else "0.0"
    mb = "coalesce(movie_bias.bias, 0)" if biased else "0.0"
    dot = (
        "coalesce(aggregate(zip_with(uf.features, mf.features, (x, y) -> cast(x as double) * y), cast(0.0 as double), "
        "(acc, v) -> acc + v), 0.0)"
    )
    common = f"'{name}' as model_name"
    nulls = {
        "user_id": "cast(null as int)", "movie_id": "cast(null as int)", "bias": "cast(null as double)",
        "factors": "cast(null as array<float>)", "predicted_rating": "cast(null as double)", "rank": "cast(null as int)",
        "score": "cast(null as double)", "hyperparameters": "cast(null as string)", "fit_seconds": "cast(null as double)",
        "train_rmse": "cast(null as double)", "train_ratings": "cast(null as bigint)",
    }  # fmt: skip

    def select(record: str, source: str, **values) -> str:
        columns = [f"'{record}' as record", common] + [f"{values.get(c, v)} as {c}" for c, v in nulls.items()]
        return f"select {', '.join(columns)} from {source}"

    predicted = f"least({high!r}, greatest({low!r}, {mu_sql} + {ub} + {mb} + {dot}))"
    pairs = """{side} as pairs
        left join user_bias on pairs.user_id = user_bias.user_id
        left join movie_bias on pairs.movie_id = movie_bias.movie_id
        left join model_user_factors as uf on pairs.user_id = uf.id
        left join model_movie_factors as mf on pairs.movie_id = mf.id"""
    train_rmse = spark.sql(f"select sqrt(avg(pow(rating - {predicted}, 2))) from {pairs.format(side='train')}").first()[
        0
    ]
    probe_rmse = spark.sql(f"select sqrt(avg(pow(rating - {predicted}, 2))) from {pairs.format(side='test')}").first()[
        0
    ]
    parts = [
        select(
            "run", "(select 1)", bias=mu_sql,
            hyperparameters="'" + json.dumps(hyper, sort_keys=True) + "'", fit_seconds=repr(seconds),
            train_rmse=repr(train_rmse) if predicts else "cast(null as double)", train_ratings=str(n_train),
        ),
        select(
            "user", "(select coalesce(user_bias.user_id, uf.id) as user_id, user_bias.bias, uf.features from user_bias "
            "full outer join model_user_factors as uf on user_bias.user_id = uf.id) as users",
            user_id="user_id", bias="bias" if biased else "cast(0.0 as double)", factors="features",
        ),
        select(
            "movie", "(select coalesce(movie_bias.movie_id, mf.id) as movie_id, movie_bias.bias, mf.features from movie_bias "
            "full outer join model_movie_factors as mf on movie_bias.movie_id = mf.id) as movies",
            movie_id="movie_id", bias="bias" if biased else "cast(0.0 as double)", factors="features",
        ),
    ]  # fmt: skip
    # top-k for the evaluation users over the training movies they have not rated (unclipped score)
    score = f"{mu_sql} + {ub} + {mb} + {dot}"
    parts.append(
        select(
            "recommendation", f"""(
                select user_id, movie_id, score,
                    row_number() over (partition by user_id order by score desc, movie_id) as rank
                from (
                    select pairs.user_id, pairs.movie_id, {score} as score
                    from (
                        select evaluation_users.user_id, movies.movie_id
                        from evaluation_users cross join (select distinct movie_id from train) as movies
                    ) as pairs
                    left anti join train on pairs.user_id = train.user_id and pairs.movie_id = train.movie_id
                    left join user_bias on pairs.user_id = user_bias.user_id
                    left join movie_bias on pairs.movie_id = movie_bias.movie_id
                    left join model_user_factors as uf on pairs.user_id = uf.id
                    left join model_movie_factors as mf on pairs.movie_id = mf.id
                ) as scored
            ) as ranked where rank <= {int(top_k)}""",
            user_id="user_id", movie_id="movie_id", rank="rank", score="score",
        )
    )  # fmt: skip
    if predicts:
        parts.append(
            select(
                "prediction",
                pairs.format(side="test"),
                user_id="pairs.user_id",
                movie_id="pairs.movie_id",
                predicted_rating=predicted,
            )
        )
    spark.sql(" union all ".join(parts)).write.mode("overwrite").format("parquet").saveAsTable(
        f"{SCHEMA}.fit_{name}_spark"
    )
    return {
        "probe_rmse": probe_rmse if predicts else None,
        "train_rmse": train_rmse if predicts else None,
        "fit_seconds": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    """`movierec fit-spark`: see the module docstring."""
    try:
        spark_conf()
    except ValueError as exc:
        print(f"fit-spark: {exc}", file=sys.stderr)
        return 2
    results = fit_spark(say=lambda *a: print(*a, file=sys.stderr))
    print(json.dumps(results, sort_keys=True))
    return 0
