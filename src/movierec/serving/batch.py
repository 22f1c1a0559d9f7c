"""The batch engine of the serving marts (their `python` engine), which dbt's Python models
python_models/serving/batch_*.py call: every user's top-k with reasons, and every movie's similar
movies, in numpy.

The rules are those of the SQL models user_recommendations and similar_movies and of `Service`:
numpy BLAS in blocks of users (or movies), the rated movies masked from a CSR of each block's
histories, top-k in one compiled pass per block (`movierec.arrays.top_k_rows`, ties by the smaller
movie_id),
the reason by cosine against the liked movies (`pick_reasons`).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import duckdb
import numpy as np
import pyarrow as pa

from movierec.arrays import top_k_rows
from movierec.progress import Progress
from movierec.serving.readers import ModelFactors, ServingConfig, _factor_matrix, _source
from movierec.serving.scoring import pick_reasons

BATCH_RECOMMENDATIONS_SCHEMA = pa.schema(
    [
        ("model_name", pa.string()),
        ("user_id", pa.int32()),
        ("rank", pa.int32()),
        ("movie_id", pa.int32()),
        ("score", pa.float64()),
        ("reason_movie_id", pa.int32()),
        ("reason_rating", pa.float64()),
    ]
)
BATCH_SIMILAR_SCHEMA = pa.schema(
    [
        ("model_name", pa.string()),
        ("movie_id", pa.int32()),
        ("rank", pa.int32()),
        ("similar_movie_id", pa.int32()),
        ("similarity", pa.float64()),
    ]
)


def serving_engine(con: duckdb.DuckDBPyConnection, config) -> str:
    """serving_config's recommendations_engine: sql or python (var `auto` resolved by the data's
    size). The batch dbt models return no rows when it is sql: SQL scores the serving marts."""
    return str(con.execute(f"select recommendations_engine from {_source(config)}").fetchone()[0])


def batch_user_recommendations(
    con: duckdb.DuckDBPyConnection,
    *,
    config,
    user_factors,
    movie_factors,
    user_ratings,
    block_users: int = 1024,
    progress: bool = True,
    threads: int | None = None,
) -> pa.Table:
    """Top-k and reasons for every user the serving model scores, as user_recommendations' model rows
    (model_name, user_id, rank, movie_id, score, reason_movie_id, reason_rating).

    Inputs are DuckDB relations (`dbt.ref(...)`) or table names. The users with at least
    `recommendations_min_user_ratings` ratings and factors in the model are taken in user_id order, in
    blocks of `block_users`: their ratings are read by a range of user_id (serving_user_ratings is
    stored in that order, so each read touches only its row groups), then one float32 GEMM
    (block x k) @ (k x movies) plus the movie biases, the rated movies set to -inf through the block's
    CSR, `top_k_rows` (one compiled pass; ties by smaller movie_id), and per user the reason (cosine against
    the liked movies). Blocks run on `threads` threads (default: the CPU count, at most 4), each
    with its own cursor, and come back in order. Memory: one block of scores per thread (block x
    movies x 4 bytes, 73 MB at the Netflix size), every scored user's factors (4k bytes each) and
    the movie factors.
    """
    cfg = ServingConfig.read(con, _source(config))
    schema = BATCH_RECOMMENDATIONS_SCHEMA
    if cfg.model_name is None:
        return schema.empty_table()
    global_mean = float(con.execute(f"select global_mean from {_source(config)}").fetchone()[0] or 0.0)
    movie_table = con.execute(
        f"select movie_id, bias, factors from {_source(movie_factors)} where model_name = ? order by movie_id",
        [cfg.model_name],
    ).to_arrow_table()
    model = ModelFactors(
        cfg.model_name,
        global_mean,
        {},
        movie_table.column("movie_id").to_numpy().astype(np.int64),
        np.nan_to_num(movie_table.column("bias").to_numpy(zero_copy_only=False).astype(np.float64)),
        _factor_matrix(movie_table.column("factors")),
    )
    movie_bias32 = model.movie_bias.astype(np.float32)
    q_t = np.ascontiguousarray(model.movie_factors.T)
    k = min(cfg.recommendations_k, len(model.movie_ids))
    users = con.execute(
        f"""
        select factors.user_id, factors.bias, factors.factors
        from {_source(user_factors)} as factors
        inner join (
            select user_id, count(*) as rating_count
            from {_source(user_ratings)}
            group by user_id
        ) as counts
            on factors.user_id = counts.user_id
        where factors.model_name = ? and counts.rating_count >= ?
        order by factors.user_id""",
        [cfg.model_name, cfg.min_user_ratings],
    ).to_arrow_table()
    all_user_ids = users.column("user_id").to_numpy().astype(np.int64)
    all_bias = np.nan_to_num(users.column("bias").to_numpy(zero_copy_only=False).astype(np.float64))
    all_factors = _factor_matrix(users.column("factors"), model.n_factors)
    del users
    ratings_sql = f"""
        select user_id, movie_id, rating
        from {_source(user_ratings)}
        where user_id between ? and ?
        order by user_id, movie_id"""
    log = Progress("batch_user_recommendations", len(all_user_ids), "users", enabled=progress)
    local, cursors = threading.local(), []

    def score_block(start: int) -> tuple[int, pa.Table]:
        if not hasattr(local, "con"):  # a DuckDB connection runs one query at a time: a cursor per thread
            local.con = con.cursor()
            cursors.append(local.con)
        user_ids = all_user_ids[start : start + block_users]
        n = len(user_ids)
        block = local.con.execute(ratings_sql, [int(user_ids[0]), int(user_ids[-1])]).fetchnumpy()
        rated_users = np.asarray(block["user_id"], dtype=np.int64)
        keep = np.isin(rated_users, user_ids)  # the range also holds users who are not scored
        rated_users = rated_users[keep]
        seen_ids = np.asarray(block["movie_id"])[keep]
        seen_ratings = np.asarray(block["rating"], dtype=np.float64)[keep]
        rows = np.searchsorted(user_ids, rated_users)
        offsets = np.searchsorted(rows, np.arange(n + 1))
        user_bias = all_bias[start : start + n]
        p = all_factors[start : start + n]
        scores = p @ q_t if model.n_factors else np.zeros((n, len(model.movie_ids)), dtype=np.float32)
        scores += movie_bias32
        seen = model.index(seen_ids)
        known = seen >= 0
        scores[rows[known], seen[known]] = -np.inf
        top, valid = top_k_rows(scores, k)
        del scores
        dots = (
            np.einsum("uf,ujf->uj", p, model.movie_factors[top]).astype(np.float64)
            if model.n_factors
            else np.zeros(top.shape)
        )
        final = (global_mean + user_bias[:, None]) + model.movie_bias[top] + dots
        reason_id = np.full(top.shape, -1, dtype=np.int64)
        reason_rating = np.full(top.shape, np.nan)
        if model.n_factors:
            liked_all = known & (seen_ratings >= cfg.reason_min_rating)
            for u in range(n):
                lo, hi = offsets[u], offsets[u + 1]
                mask = liked_all[lo:hi]
                if not mask.any():
                    continue
                liked = seen[lo:hi][mask]
                picks = pick_reasons(model, top[u][valid[u]], liked)
                hit = picks >= 0
                cols = np.flatnonzero(valid[u])[hit]
                reason_id[u, cols] = model.movie_ids[liked[picks[hit]]]
                reason_rating[u, cols] = seen_ratings[lo:hi][mask][picks[hit]]
        ranks = np.cumsum(valid, axis=1)
        return n, pa.table(
            {
                "model_name": pa.array([cfg.model_name] * int(valid.sum()), pa.string()),
                "user_id": pa.array(np.repeat(user_ids, top.shape[1]).reshape(n, -1)[valid], pa.int32()),
                "rank": pa.array(ranks[valid], pa.int32()),
                "movie_id": pa.array(model.movie_ids[top][valid], pa.int32()),
                "score": pa.array(final[valid], pa.float64()),
                "reason_movie_id": pa.array(reason_id[valid], pa.int32(), mask=reason_id[valid] < 0),
                "reason_rating": pa.array(reason_rating[valid], pa.float64(), mask=np.isnan(reason_rating[valid])),
            },
            schema=schema,
        )

    # blocks on a few threads (numpy's GEMM and the compiled top-k release the GIL), taken back in
    # order: the same rows as one thread
    threads = min(os.cpu_count() or 1, 4) if threads is None else max(1, int(threads))
    parts = []
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for n, part in pool.map(score_block, range(0, len(all_user_ids), block_users)):
                parts.append(part)
                log.step(n)
    finally:
        for cursor in cursors:
            cursor.close()
    log.done()
    return pa.concat_tables(parts) if parts else schema.empty_table()


def batch_similar_movies(
    con: duckdb.DuckDBPyConnection, *, config, movie_factors, movies, block_movies: int = 1024, progress: bool = True
) -> pa.Table:
    """similar_movies' rows (model_name, movie_id, rank, similar_movie_id, similarity) with numpy: unit
    factor rows, one GEMM per block of movies against the eligible ones (at least
    `similar_movies_min_ratings` ratings in `movies`, i.e. dim_movies), self excluded, `top_k_rows`."""
    cfg = ServingConfig.read(con, _source(config))
    schema = BATCH_SIMILAR_SCHEMA
    if cfg.model_name is None:
        return schema.empty_table()
    table = con.execute(
        f"""
        select factors.movie_id, factors.factors, coalesce(movies.rating_count, 0) as rating_count
        from {_source(movie_factors)} as factors
        left join {_source(movies)} as movies
            on factors.movie_id = movies.movie_id
        where factors.model_name = ?
        order by factors.movie_id""",
        [cfg.model_name],
    ).to_arrow_table()
    model = ModelFactors(
        cfg.model_name,
        0.0,
        {},
        table.column("movie_id").to_numpy().astype(np.int64),
        np.zeros(table.num_rows),
        _factor_matrix(table.column("factors")),
    )
    if model.n_factors == 0:
        return schema.empty_table()
    anchors = np.flatnonzero(model.has_direction)
    eligible = model.has_direction & (table.column("rating_count").to_numpy() >= cfg.similar_min_ratings)
    candidates = np.flatnonzero(eligible)
    k = min(cfg.similar_movies_k, len(candidates))
    unit_t = np.ascontiguousarray(model.unit[candidates].T)
    position = np.full(len(model.movie_ids), -1)
    position[candidates] = np.arange(len(candidates))
    log = Progress("batch_similar_movies", len(anchors), "movies", enabled=progress)
    parts = []
    for start in range(0, len(anchors), block_movies):
        block = anchors[start : start + block_movies]
        sims = model.unit[block] @ unit_t
        own = position[block]
        sims[np.flatnonzero(own >= 0), own[own >= 0]] = -np.inf
        top, valid = top_k_rows(sims, k)
        values = np.take_along_axis(sims, top, axis=1).astype(np.float64)
        n = len(block)
        parts.append(
            pa.table(
                {
                    "model_name": pa.array([cfg.model_name] * int(valid.sum()), pa.string()),
                    "movie_id": pa.array(
                        np.repeat(model.movie_ids[block], top.shape[1]).reshape(n, -1)[valid], pa.int32()
                    ),
                    "rank": pa.array(np.cumsum(valid, axis=1)[valid], pa.int32()),
                    "similar_movie_id": pa.array(model.movie_ids[candidates[top]][valid], pa.int32()),
                    "similarity": pa.array(values[valid], pa.float64()),
                },
                schema=schema,
            )
        )
        log.step(n)
    log.done()
    return pa.concat_tables(parts) if parts else schema.empty_table()
