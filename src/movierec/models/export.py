"""Turn a fitted model into the one table a dbt Python model returns.

A dbt Python model returns a single table, but a fitted recommender has several outputs.
Each `fit_<model>` dbt model therefore returns a long *artifact* table with a `record` column,
and SQL models split the artifacts of all models into tables of one grain each:

    record           grain                          read by
    run              one row (the fit)              model_runs
    user / movie     one row per user / movie       user_factors / movie_factors (factor models
                                                    that serve from factors: not BayesianMF)
    prediction       one row per held-out rating    model_predictions (rating models)
    recommendation   one row per eval user and rank model_recommendations_eval (every model)

`factors` is a fixed-size FLOAT[k] array (DuckDB ARRAY), k = the dbt var `factors` for every
model (a model with fewer factors is padded with zeros, which changes no inner product or
cosine); null for bias-only models and for rows that are not factor rows.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from movierec.models.base import FactorModel, Recommender, renamed_keyword
from movierec.models.blas import one_blas_thread_for_this_process
from movierec.models.data import Ratings, training_ratings


def artifact_schema(n_factors: int) -> pa.Schema:
    return pa.schema(
        [
            ("record", pa.string()),
            ("model_name", pa.string()),
            ("user_id", pa.int32()),
            ("movie_id", pa.int32()),
            ("bias", pa.float64()),
            ("factors", pa.list_(pa.float32(), n_factors)),
            ("predicted_rating", pa.float64()),
            ("rank", pa.int32()),
            ("score", pa.float64()),
            ("hyperparameters", pa.string()),
            ("fit_seconds", pa.float64()),
            ("train_rmse", pa.float64()),
            ("train_ratings", pa.int64()),
        ]
    )


def evaluation_users(test: pa.Table, train: Ratings, max_users: int | None) -> np.ndarray:
    """Users to rank for: test users known from training, at most `max_users`, chosen by a fixed
    hash of the id (deterministic, independent of order) so that every model ranks for the same users."""
    user_ids = np.unique(test.column("user_id").to_numpy())
    user_ids = user_ids[train.user_index(user_ids) >= 0]
    if max_users is not None and len(user_ids) > max_users:
        draw = (user_ids.astype(np.uint64) * np.uint64(2654435761)) % np.uint64(2**32)
        user_ids = np.sort(user_ids[np.argsort(draw, kind="stable")[:max_users]])
    return user_ids


def export_artifacts(
    model: Recommender,
    test: pa.Table,
    n_factors: int | None = None,
    top_k: int = 10,
    eval_max_users: int | None = 10_000,
    *,
    k_factors: int | None = None,
) -> pa.Table:
    """The artifact table of a fitted `model`, with predictions for `test` (a table of user_id,
    movie_id, rating) and top-`top_k` lists for the evaluation users."""
    train = model.train
    assert train is not None, "fit the model first"
    n_factors = renamed_keyword(n_factors, k_factors, "k_factors", "n_factors", "export_artifacts")
    if n_factors is None:
        raise TypeError("export_artifacts() needs n_factors, the width of the factor tables")
    schema = artifact_schema(n_factors)
    parts = [_run_row(model, train, schema)]
    if isinstance(model, FactorModel) and getattr(model, "serves_factors", True):
        if model.factor_columns > n_factors:
            raise ValueError(
                f"{model.name} has {model.factor_columns} factors but the factor tables hold {n_factors} "
                "(var `factors`): raise the var or lower the model's n_factors"
            )
        parts.append(_factor_rows(model, "user", train.user_ids, model.user_bias, model.user_factors, schema))
        parts.append(_factor_rows(model, "movie", train.movie_ids, model.movie_bias, model.movie_factors, schema))
    if model.predicts_ratings:
        users, movies = test.column("user_id").to_numpy(), test.column("movie_id").to_numpy()
        if getattr(model, "uses_context", False) and "rated_on" in test.column_names:
            predicted = model.predict(users, movies, rated_on=test.column("rated_on").to_numpy())
        else:
            predicted = model.predict(users, movies)
        parts.append(
            _rows(
                schema,
                len(users),
                record="prediction",
                model_name=model.name,
                user_id=users,
                movie_id=movies,
                predicted_rating=predicted,
            )
        )
    users = evaluation_users(test, train, eval_max_users)
    user, rank, movie, score = model.recommend(users, k=top_k)
    parts.append(
        _rows(
            schema,
            len(user),
            record="recommendation",
            model_name=model.name,
            user_id=user,
            movie_id=movie,
            rank=rank,
            score=score,
        )
    )
    return pa.concat_tables(parts)


def _run_row(model: Recommender, train: Ratings, schema: pa.Schema) -> pa.Table:
    return _rows(
        schema,
        1,
        record="run",
        model_name=model.name,
        hyperparameters=json.dumps(model.hyperparameters(), sort_keys=True, default=float),
        fit_seconds=model.fit_seconds,
        train_rmse=model.train_rmse,
        train_ratings=len(train),
        bias=getattr(model, "global_mean", None),
    )


def _factor_rows(model: FactorModel, record: str, ids, bias, factors, schema: pa.Schema) -> pa.Table:
    n = len(ids)
    k = schema.field("factors").type.list_size
    if model.factor_columns:
        # Models with fewer factors are padded with zeros: inner products and cosines are unchanged.
        padded = np.zeros((n, k), dtype=np.float32)
        padded[:, : model.factor_columns] = factors
        flat = pa.array(padded.reshape(-1))
        factor_array = pa.FixedSizeListArray.from_arrays(flat, k)
    else:
        factor_array = pa.nulls(n, schema.field("factors").type)
    bias_array = np.asarray(bias, dtype=np.float64) if len(bias) else np.zeros(n)
    table = _rows(
        schema,
        n,
        record=record,
        model_name=model.name,
        bias=bias_array,
        **{"user_id" if record == "user" else "movie_id": ids},
    )
    return table.set_column(schema.get_field_index("factors"), "factors", factor_array)


def _rows(schema: pa.Schema, n: int, **values) -> pa.Table:
    columns = []
    for field in schema:
        value = values.get(field.name)
        if value is None:
            columns.append(pa.nulls(n, field.type))
        elif isinstance(value, (str, int, float)):
            columns.append(pa.array([value] * n, field.type))
        else:
            columns.append(pa.array(np.asarray(value), field.type) if not isinstance(value, pa.Array) else value)
    return pa.Table.from_arrays(columns, schema=schema)


def fit_and_export(recommender: Recommender, train, test, meta: dict | None, implicit=None) -> pa.Table:
    """What every `fit_<model>` dbt Python model does: fit on the training ratings, then export
    predictions for the test ratings and top-k lists, as the artifact table.

    `train` is a `Ratings`, int_ratings_train's relation (loaded once per process and shared, see
    `movierec.models.data.training_ratings`) or any relation or Arrow table with user_id, movie_id,
    rating; `test` a relation or Arrow table with those columns; `meta` is
    the model's meta config (from vars): factors, top_k, eval_max_users. Models that take
    context (`uses_context`: dates, implicit pairs) read `train` as a table with its `rated_on`
    (not the shared copy, which has no dates), get the pairs of `implicit` (a relation or table of
    user_id, movie_id: which pairs exist, never their ratings) and the test dates when predicting.
    """
    meta = meta or {}
    uses_context = getattr(recommender, "uses_context", False)
    if uses_context:
        train_table = _arrow(train)
        if {"user_index", "movie_index"} <= set(train_table.column_names):
            # int_ratings_train is stored in no fixed order; the fit's float sums follow the rows'
            train_table = train_table.sort_by([("user_index", "ascending"), ("movie_index", "ascending")])
        train_ratings = Ratings.from_arrow(train_table)
    elif isinstance(train, Ratings):
        train_ratings = train
    elif _is_indexed_relation(train):
        train_ratings = training_ratings(train)
    else:
        train_ratings = Ratings.from_arrow(_arrow(train))
    test_table = _arrow(test)
    max_users = meta.get("eval_max_users")
    # dbt runs several Python models at once as threads of one process: one BLAS thread each, and a
    # limit that never moves, so the same data gives the same parameters (movierec.models.blas)
    one_blas_thread_for_this_process()
    if uses_context:
        pairs = None
        if implicit is not None:
            pairs_table = _arrow(implicit)
            pairs = (pairs_table.column("user_id").to_numpy(), pairs_table.column("movie_id").to_numpy())
        recommender.fit(train_ratings, rated_on=train_table.column("rated_on").to_numpy(), implicit=pairs)
    else:
        recommender.fit(train_ratings)
    return export_artifacts(
        recommender,
        test_table,
        n_factors=int(meta.get("factors", 50)),
        top_k=int(meta.get("top_k", 10)),
        eval_max_users=None if max_users in (None, "", "None") else int(max_users),
    )


def _is_indexed_relation(train) -> bool:
    """A DuckDB relation carrying SQL-computed indices (int_ratings_train), not an Arrow table."""
    return hasattr(train, "aggregate") and {"user_index", "movie_index"} <= set(getattr(train, "columns", []))


def _arrow(relation) -> pa.Table:
    table = relation.arrow() if hasattr(relation, "arrow") else relation
    return table.read_all() if hasattr(table, "read_all") else table
