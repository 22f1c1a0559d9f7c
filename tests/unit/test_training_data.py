"""The training ratings loaded once from SQL-indexed rows and shared by every fit."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from movierec.models import data
from movierec.models.baselines import MovieMean
from movierec.models.data import Ratings, training_ratings
from movierec.models.export import fit_and_export

ROWS = [  # user_id, movie_id, rating
    (30, 7, 4.0),
    (10, 7, 5.0),
    (10, 9, 3.0),
    (20, 8, 1.0),
    (30, 9, 2.0),
    (20, 7, 4.0),
]


def indexed_table(con: duckdb.DuckDBPyConnection, rows=ROWS, name: str = "train") -> duckdb.DuckDBPyRelation:
    """The same indices as int_ratings_train: ranks of the sorted distinct ids, from 0."""
    con.execute(f"create or replace table {name}_raw (user_id integer, movie_id integer, rating double)")
    con.executemany(f"insert into {name}_raw values (?, ?, ?)", rows)
    con.execute(f"""
        create or replace table {name} as
        select
            user_id, movie_id, rating,
            (dense_rank() over (order by user_id) - 1)::integer as user_index,
            (dense_rank() over (order by movie_id) - 1)::integer as movie_index
        from {name}_raw
    """)
    return con.table(name)


@pytest.fixture(autouse=True)
def empty_cache():
    data._CACHE.clear()
    yield
    data._CACHE.clear()


def test_indexed_load_equals_indexing_the_ids():
    con = duckdb.connect()
    loaded = training_ratings(indexed_table(con))
    reference = Ratings.from_ids([r[0] for r in ROWS], [r[1] for r in ROWS], [r[2] for r in ROWS])
    assert loaded.user_ids.tolist() == [10, 20, 30] and loaded.movie_ids.tolist() == [7, 8, 9]

    def key(r):
        return sorted(zip(r.user_ids[r.user].tolist(), r.movie_ids[r.movie].tolist(), r.rating.tolist()))

    assert key(loaded) == key(reference) == sorted(ROWS)
    assert (loaded.csr() != reference.csr()).nnz == 0


def test_the_ratings_come_back_in_user_then_movie_order_whatever_the_table_order():
    # int_ratings_train is stored in no fixed order (a parallel join); the fits' float sums follow
    # the row order, so the loader sorts: two tables with the same rows in other orders load alike
    rng = np.random.default_rng(0)
    pairs = np.unique(np.c_[rng.integers(0, 300, 3000), rng.integers(0, 40, 3000)], axis=0)
    rows = [(int(u) * 3 + 1, int(m) + 5, float(r)) for (u, m), r in zip(pairs, rng.integers(1, 6, len(pairs)))]
    con = duckdb.connect()
    loads = []
    for seed in (1, 2):
        shuffled = [rows[i] for i in np.random.default_rng(seed).permutation(len(rows))]
        data._CACHE.clear()
        loads.append(training_ratings(indexed_table(con, shuffled, name=f"train{seed}")))
    first, second = loads
    key = first.user.astype(np.int64) * first.n_movies + first.movie
    assert (np.diff(key) > 0).all()  # (user_index, movie_index) order
    for name in ("user", "movie", "rating", "user_ids", "movie_ids"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    expected = sorted((u, m, r) for u, m, r in rows)
    assert (
        list(zip(first.user_ids[first.user].tolist(), first.movie_ids[first.movie].tolist(), first.rating.tolist()))
        == expected
    )


def test_the_same_content_is_loaded_once_and_a_changed_table_is_reloaded(monkeypatch):
    con = duckdb.connect()
    calls = []
    real = data._load_indexed
    monkeypatch.setattr(data, "_load_indexed", lambda relation: calls.append(1) or real(relation))
    first = training_ratings(indexed_table(con))
    assert training_ratings(con.table("train")) is first  # same content: shared, not reloaded
    changed = training_ratings(indexed_table(con, ROWS[:-1] + [(20, 7, 5.0)]))  # one rating differs
    assert changed is not first and len(calls) == 2
    assert changed.rating[(changed.user_ids[changed.user] == 20) & (changed.movie_ids[changed.movie] == 7)] == [5.0]


def test_indices_that_are_not_dense_ranks_are_refused():
    con = duckdb.connect()
    indexed_table(con)
    con.execute("update train set user_index = user_index * 2")
    with pytest.raises(ValueError, match="user_index .* not a dense rank"):
        training_ratings(con.table("train"))
    with pytest.raises(ValueError, match="movie indices outside"):
        Ratings.from_indexed([0], [3], [4.0], np.array([1]), np.array([5, 6]))
    with pytest.raises(ValueError, match="sorted and unique"):
        Ratings.from_indexed([0], [0], [4.0], np.array([1]), np.array([6, 5]))


def test_fit_and_export_reads_an_indexed_relation_like_an_arrow_table():
    con = duckdb.connect()
    train = indexed_table(con)
    test = con.sql("select 10 as user_id, 8 as movie_id, 2.0 as rating")
    meta = {"factors": 4, "top_k": 2, "eval_max_users": 10}
    from_relation = fit_and_export(MovieMean(damping=1), train, test, meta)
    from_arrow = fit_and_export(
        MovieMean(damping=1), con.sql("select user_id, movie_id, rating from train").arrow().read_all(), test, meta
    )
    keep = [c for c in from_arrow.column_names if c != "fit_seconds"]
    assert from_relation.select(keep).equals(from_arrow.select(keep))
    mu = np.mean([r[2] for r in ROWS])
    prediction = from_relation.filter(from_relation.column("record").to_numpy(zero_copy_only=False) == "prediction")
    assert prediction.column("predicted_rating").to_pylist() == pytest.approx([mu + (1.0 - mu) / 2])
