"""movierec.serving: ranking rules, cold start, similar movies, fold-in and title search, on tiny
warehouses built with SQL (tests/serving_warehouse.py), in both reading modes."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.models.baselines import BiasBaseline
from movierec.models.data import Ratings
from movierec.models.mf import BiasedMF
from movierec.serving import (
    MAX_K,
    InvalidRequest,
    ModelFactors,
    Service,
    UnknownMovie,
    WarehouseUnavailable,
    batch_similar_movies,
    batch_user_recommendations,
    fold_in_user,
    score_movies,
    top_k,
    top_k_rows,
)
from tests.conftest import query
from tests.serving_warehouse import ModelRows, Writer, build_warehouse, can_open_for_writing, hand_example


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    return hand_example(tmp_path_factory.mktemp("hand") / "hand.duckdb")


@pytest.fixture(params=["per-call", "preload"])
def service(request, hand):
    return Service(hand, preload=request.param == "preload")


def rows(result):
    return [(i.rank, i.movie_id, round(i.score, 9), i.reason, i.reason_movie_id) for i in result.items]


# --- top-k ---------------------------------------------------------------------------------------


def test_top_k_breaks_ties_by_smaller_index_and_skips_excluded():
    scores = np.array([1.0, 3.0, 3.0, -np.inf, 3.0, 2.0])
    assert top_k(scores, 2).tolist() == [1, 2]
    assert top_k(scores, 4).tolist() == [1, 2, 4, 5]
    assert top_k(scores, 10).tolist() == [1, 2, 4, 5, 0]  # only 5 finite: fewer than k
    assert top_k(np.full(3, -np.inf), 2).tolist() == []


def test_top_k_rows_agrees_with_top_k_row_by_row():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, size=(50, 40)).astype(np.float32)  # many ties, also at the cut
    scores[rng.random(scores.shape) < 0.3] = -np.inf
    scores[7, :] = -np.inf
    scores[8, 3:] = -np.inf  # fewer finite than k
    top, valid = top_k_rows(scores, 5)
    for r in range(len(scores)):
        assert top[r][valid[r]].tolist() == top_k(scores[r], 5).tolist()
        assert valid[r].tolist() == sorted(valid[r].tolist(), reverse=True)  # valid entries first


# --- recommendations -----------------------------------------------------------------------------


def test_recommend_matches_the_sql_unit_test_example(service):
    """The answer the dbt unit test expects from user_recommendations, from the Python API."""
    one = service.recommend(1, k=3)
    assert not one.cold_start and one.model_name == "biased_mf" and one.rating_count == 2
    assert rows(one) == [
        (1, 20, 4.0, "because you rated Alpha (2001) 5/5", 10),  # 10 ties 20 at 4.0 but is rated
        (2, 40, 3.5, "because you rated Alpha (2001) 5/5", 10),
        (3, 60, 3.0, None, None),  # ties 70 at the cut; zero factors: no reason
    ]
    two = service.recommend(2, k=3)
    assert rows(two) == [
        (1, 10, 4.5, "because you rated Delta (2004) 4/5", 40),  # 10 and 20 tie at 4.5: smaller id first
        (2, 20, 4.5, "because you rated Delta (2004) 4/5", 40),
        (3, 30, 4.0, "because you rated Gamma 5/5", 70),  # the most similar liked movie, no year
    ]


def test_seen_movies_are_never_recommended_and_ranks_have_no_gaps(service, hand):
    rated = {}
    for user, movie in query(hand, "select user_id, movie_id from fct_ratings"):
        rated.setdefault(user, set()).add(movie)
    for user, movies in rated.items():
        result = service.recommend(user, k=7)
        ids = [i.movie_id for i in result.items]
        assert not set(ids) & movies
        assert [i.rank for i in result.items] == list(range(1, len(ids) + 1))
        assert len(ids) == len(set(ids))
        assert len(ids) == min(7, 7 - len(movies & {10, 20, 30, 40, 50, 60, 70}))  # 7 movies are rated at all


def test_default_k_comes_from_serving_config(service):
    assert len(service.recommend(2).items) == 3


@pytest.mark.parametrize(
    "user_id, why",
    [
        (999_999, "unknown user"),
        (-5, "unknown user"),
        (2**70, "unknown user"),  # out of any integer column's range: unknown, not an error
        ("not an id", "unknown user"),
        (3, "fewer than 2 ratings"),  # has factors, one rating
        (4, "user not in model biased_mf"),  # two ratings, no factors
    ],
)
def test_cold_start_gets_the_most_popular_unrated_movies(service, user_id, why):
    result = service.recommend(user_id, k=3)
    assert result.cold_start and result.model_name == "popularity" and result.cold_start_reason == why
    expected = {3: [20, 30, 40], 4: [10, 40, 50]}.get(user_id, [10, 20, 30])
    assert [i.movie_id for i in result.items] == expected
    assert all(i.reason.startswith("popular: rated by ") and i.reason_movie_id is None for i in result.items)
    assert [i.score for i in result.items] == sorted((i.score for i in result.items), reverse=True)


def test_another_model_can_serve(service):
    result = service.recommend(1, k=3, model="bias_only")
    assert result.model_name == "bias_only"
    # 3.0 + b_u 0.1 + b_i, unrated movies by bias; no factors: no reasons
    assert [(i.movie_id, round(i.score, 9), i.reason) for i in result.items] == [
        (20, 3.7, None),
        (40, 3.5, None),
        (50, 3.4, None),
    ]
    with pytest.raises(InvalidRequest, match="unknown model 'nope'"):
        service.recommend(1, model="nope")


@pytest.mark.parametrize("k", [0, -1, 101, 1001, 2.5, "3", True])
def test_invalid_k_is_rejected(service, k):
    with pytest.raises(InvalidRequest, match="k must be a whole number from 1 to 100"):
        service.recommend(1, k=k)


def test_one_list_length_limit_for_the_library_and_the_http_api(service):
    """MAX_K is 100, as the HTTP API documents (k and limit at most 100): the library and the server
    share the one constant, so a list the library returns is one the API would also serve."""
    from movierec import server

    assert MAX_K == 100 and server.MAX_K is MAX_K
    assert len(service.recommend(1, k=100).items) <= 100
    assert len(service.search_movies("a", limit=100)) <= 100
    with pytest.raises(InvalidRequest, match="from 1 to 100"):
        service.search_movies("a", limit=101)


def test_fold_in_with_a_model_no_class_fitted_is_a_clear_error(service):
    """Fold-in runs the model's own user step, found by the model's name: a model no factor model class
    wrote (bias_only here, a hand-made row) cannot fold in, and says so, instead of guessing the math."""
    with pytest.raises(InvalidRequest, match="'bias_only' cannot fold in a new user: no factor model class"):
        service.fold_in({40: 4, 50: 1, 70: 5}, model="bias_only")


# --- similar movies ------------------------------------------------------------------------------


def test_similar_movies_rank_by_cosine_with_ties_by_movie_id(service):
    result = service.similar(10, k=4)
    assert result.model_name == "biased_mf" and result.title == "Alpha"
    # 20 is parallel (1), 40 at 45 degrees, 30 and 70 orthogonal (tie: 30 first); 60 has no direction
    assert [(i.movie_id, round(i.similarity, 6)) for i in result.items] == [
        (20, 1.0),
        (40, 0.707107),
        (30, 0.0),
        (70, 0.0),
    ]


def test_similar_movies_respect_minimum_support(hand, tmp_path):
    path = hand_example(tmp_path / "support.duckdb", similar_min_ratings=8)  # only 10, 20, 30 have 8+ ratings
    result = Service(path).similar(40, k=5)
    assert [i.movie_id for i in result.items] == [10, 20, 30]
    assert 10 not in [i.movie_id for i in Service(path).similar(10, k=5).items]  # never itself


def test_similar_unknown_movie_and_movie_without_factors(service):
    with pytest.raises(UnknownMovie):
        service.similar(12345)
    with pytest.raises(UnknownMovie):
        service.similar(2**80)
    no_direction = service.similar(60)
    assert no_direction.items == [] and "no factors" in no_direction.note
    not_in_model = service.similar(80)
    assert not_in_model.items == [] and not_in_model.title == 'It\'s a "Wonderful" Life'
    bias_only = service.similar(10, model="bias_only")
    assert bias_only.items == [] and "bias-only" in bias_only.note


# --- search --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("alpha", [10]),
        ("ALPHA", [10]),
        ("amélie", [99]),
        ("AMÉLIE", [99]),
        ("it's", [80]),
        ('"wonderful"', [80]),
        ("%", [90]),
        ("_", [90, 95]),  # 95 is "..dim_movies.."
        ("%_", []),
        ("100% pure_", [90]),
        ("'; drop table dim_movies; --", [95]),
        ("' or '1'='1", []),
        ("nothing like this", []),
        ("   ", []),
    ],
)
def test_title_search_is_a_plain_case_insensitive_substring_match(service, hand, text, expected):
    assert [m.movie_id for m in service.search_movies(text)] == expected
    assert query(hand, "select count(*) from dim_movies") == [(11,)]  # nothing was dropped


def test_title_search_orders_exact_then_prefix_then_popularity(service):
    # 'a' is in almost every title: exact match first, then titles starting with it, then most-rated
    results = [m.movie_id for m in service.search_movies("a", limit=50)]
    assert results[:3] == [10, 99, 30] or results[0] == 10  # Alpha starts with 'a' and is most-rated
    assert set(results) == {10, 20, 30, 40, 70, 80, 95, 99}
    assert len(service.search_movies("a", limit=2)) == 2


# --- fold-in -------------------------------------------------------------------------------------


def _exact_problem(seed: int = 7, users: int = 40, movies: int = 12, k: int = 2):
    """Ratings that are exactly mu + b_u + b_i + p_u . q_i (real-valued), every pair observed."""
    rng = np.random.default_rng(seed)
    bu, bi = rng.normal(0, 0.3, users + 1), rng.normal(0, 0.5, movies)
    p, q = rng.normal(0, 1, (users + 1, k)), rng.normal(0, 1, (movies, k))
    return 3.5 + bu[:, None] + bi[None, :] + p @ q.T


def _mf_scores(model: BiasedMF, user_id: int) -> np.ndarray:
    """Unclipped global_mean + b_u + b_i + p_u . q_i of a fitted model, over its movies."""
    u = int(model.train.user_index([user_id])[0])
    return (
        model.global_mean
        + model.user_bias[u]
        + model.movie_bias
        + model.movie_factors.astype(np.float64) @ model.user_factors[u].astype(np.float64)
    )


def test_fold_in_matches_a_full_refit_on_an_exact_example(tmp_path):
    """Exact rank-2 data with biases, 40 users x 12 movies fully observed, tiny regularization. A new
    user rates 6 movies (more than k + 1 = 3 unknowns). A refit with that user and the fold-in against the
    first fit's movie factors both recover the truth: same ranking of the 6 other movies, scores within
    1e-3 of each other (measured: about 3e-5)."""
    truth = _exact_problem()
    n_users, n_movies = truth.shape[0] - 1, truth.shape[1]
    users, movies = np.meshgrid(np.arange(1, n_users + 1), np.arange(1, n_movies + 1), indexing="ij")
    settings = dict(n_factors=2, reg=1e-6, reg_bias=1e-6, weighted_reg=False, epochs=300, seed=1)
    base = BiasedMF(**settings).fit(Ratings.from_ids(users.ravel(), movies.ravel(), truth[:-1].ravel()))
    new_user, rated = n_users + 1, np.array([1, 3, 5, 7, 9, 11])
    unrated = np.setdiff1d(np.arange(1, n_movies + 1), rated)
    refit = BiasedMF(**settings).fit(
        Ratings.from_ids(
            np.concatenate([users.ravel(), np.full(len(rated), new_user)]),
            np.concatenate([movies.ravel(), rated]),
            np.concatenate([truth[:-1].ravel(), truth[-1, rated - 1]]),
        )
    )
    refit_scores = _mf_scores(refit, new_user)[unrated - 1]

    factors = ModelFactors(
        "biased_mf",
        base.global_mean,
        base.hyperparameters(),
        base.train.movie_ids.astype(np.int64),
        base.movie_bias,
        base.movie_factors,
    )
    bias, p = fold_in_user(factors, rated - 1, truth[-1, rated - 1])
    fold_scores = score_movies(factors, bias, p)[unrated - 1]
    np.testing.assert_allclose(fold_scores, truth[-1, unrated - 1], atol=1e-3)
    np.testing.assert_allclose(fold_scores, refit_scores, atol=1e-3)
    assert np.argsort(-fold_scores).tolist() == np.argsort(-refit_scores).tolist()

    # the same through the service, from a warehouse holding the first fit
    ratings = [(int(u), int(m), float(r)) for u, m, r in zip(users.ravel(), movies.ravel(), truth[:-1].ravel())]
    path = build_warehouse(
        tmp_path / "exact.duckdb",
        ratings=ratings,
        movies=[(m, f"Movie {m}", 2000) for m in range(1, n_movies + 1)],
        models=[ModelRows.from_model(base)],
        serving_model="biased_mf",
        k=6,
    )
    result = Service(path).fold_in({int(m): float(truth[-1, m - 1]) for m in rated})
    assert not result.cold_start and result.ignored_movie_ids == []
    assert [i.movie_id for i in result.items] == unrated[np.argsort(-refit_scores, kind="stable")].tolist()
    np.testing.assert_allclose([i.score for i in result.items], np.sort(refit_scores)[::-1], atol=1e-3)


def test_fold_in_is_the_models_own_user_step():
    """On noisy data the fold-in of a trained user's own ratings is one more ALS user step: after
    convergence (40 epochs here) it reproduces the stored user, bias and factors, within 1e-4 (measured
    1e-5). Bound when not converged: after 10 epochs the same setting differs by up to 0.09-0.12 and
    the top-10 lists overlap in at least 7 of 10 (mean 9.7), the movies' last step being the difference."""
    rng = np.random.default_rng(3)
    n_users, n_movies, k = 300, 60, 5
    p, q = rng.normal(0, 0.5, (n_users, k)), rng.normal(0, 0.5, (n_movies, k))
    mask = rng.random((n_users, n_movies)) < 0.4
    u, m = np.nonzero(mask)
    r = np.clip(np.round(3.6 + (p @ q.T)[u, m] + rng.normal(0, 0.5, len(u))), 1, 5)
    model = BiasedMF(n_factors=k, reg=0.05, reg_bias=0.05, weighted_reg=True, epochs=40, seed=0).fit(
        Ratings.from_ids(u + 1, m + 1, r)
    )
    factors = ModelFactors(
        "biased_mf",
        model.global_mean,
        model.hyperparameters(),
        model.train.movie_ids.astype(np.int64),
        model.movie_bias,
        model.movie_factors,
    )
    worst = 0.0
    for user in range(0, n_users, 10):
        rated = np.flatnonzero(mask[user])
        bias, vec = fold_in_user(factors, rated, r[u == user])
        worst = max(worst, abs(bias - model.user_bias[user]), np.abs(vec - model.user_factors[user]).max())
    assert worst < 1e-4, worst


def test_fold_in_of_the_bias_baseline_is_its_user_update():
    rng = np.random.default_rng(1)
    u, m = rng.integers(1, 30, 400), rng.integers(1, 20, 400)
    keep = np.unique(u * 100 + m, return_index=True)[1]
    u, m, r = u[keep], m[keep], rng.integers(1, 6, len(keep)).astype(float)
    model = BiasBaseline(reg_user=15, reg_movie=10).fit(Ratings.from_ids(u, m, r))
    factors = ModelFactors(
        "bias_baseline",
        model.global_mean,
        model.hyperparameters(),
        model.train.movie_ids.astype(np.int64),
        model.movie_bias,
        np.zeros((len(model.movie_bias), 0), np.float32),
    )
    movies, ratings = np.array([0, 3, 5]), np.array([5.0, 4.0, 1.0])
    bias, vec = fold_in_user(factors, movies, ratings)
    assert vec.shape == (0,)
    assert bias == pytest.approx((ratings - model.global_mean - model.movie_bias[movies]).sum() / (15 + 3))


def test_fold_in_of_a_truncated_svd_is_the_svd_projection():
    """For the SVD, a user's row is exactly the projection of their residuals: folding a trained user's
    own ratings in reproduces their bias and factors."""
    from movierec.models.svd import TruncatedSVD

    rng = np.random.default_rng(5)
    u, m = rng.integers(1, 80, 1500), rng.integers(1, 40, 1500)
    keep = np.unique(u * 100 + m, return_index=True)[1]
    u, m, r = u[keep], m[keep], rng.integers(1, 6, len(keep)).astype(float)
    model = TruncatedSVD(n_factors=4).fit(Ratings.from_ids(u, m, r))
    factors = ModelFactors(
        "truncated_svd",
        model.global_mean,
        model.hyperparameters(),
        model.train.movie_ids.astype(np.int64),
        model.movie_bias,
        model.movie_factors,
    )
    for user in model.train.user_ids[:20]:
        mine = u == user
        bias, vec = fold_in_user(factors, model.train.movie_index(m[mine]), r[mine])
        i = int(model.train.user_index([user])[0])
        assert bias == pytest.approx(model.user_bias[i], abs=1e-9)
        np.testing.assert_allclose(vec, model.user_factors[i], atol=1e-4)


def test_fold_in_through_the_service(service):
    # like user 2 of the example: likes 40 and 70, dislikes 50
    result = service.fold_in({40: 4, 50: 1, 70: 5}, k=3)
    assert not result.cold_start and result.model_name == "biased_mf" and result.user_id is None
    ids = [i.movie_id for i in result.items]
    assert not {40, 50, 70} & set(ids) and [i.rank for i in result.items] == [1, 2, 3]
    assert ids[0] == 30  # 30 = [0, 1] like 70, with the largest movie bias
    assert result.items[0].reason == "because you rated Gamma 5/5"


def test_fold_in_counts_a_movie_once(service):
    once = service.fold_in({40: 4, 50: 1, 70: 5}, k=3)
    assert service.fold_in({"40": 1, 40: 4, 50: 1, "070": 5}, k=3) == once


def test_fold_in_with_too_few_known_ratings_falls_back_to_popularity(service):
    result = service.fold_in({10: 5}, k=3)
    assert result.cold_start and [i.movie_id for i in result.items] == [20, 30, 40]
    # 80 is in the catalog but has no factors: ignored for the fit, still excluded
    result = service.fold_in({10: 5, 80: 4}, k=3)
    assert result.cold_start and result.ignored_movie_ids == [80]
    assert service.fold_in({}, k=2).cold_start


@pytest.mark.parametrize(
    "ratings, message",
    [
        ({10: 6}, "ratings must be numbers from 1 to 5"),
        ({10: 0.5}, "ratings must be numbers from 1 to 5"),
        ({10: float("nan")}, "ratings must be numbers"),
        ({10: float("inf")}, "ratings must be numbers"),
        ({10: "five"}, "ratings must be numbers"),
        ({10: True}, "ratings must be numbers"),
        ({12345: 4, 10: 5, 777: 3}, r"unknown movie ids \(not in the catalog\): \[777, 12345\]"),
        ({"x": 4}, "unknown movie ids"),
        ([(10, 4)], "ratings must be a mapping"),
    ],
)
def test_fold_in_rejects_bad_ratings(service, ratings, message):
    with pytest.raises(InvalidRequest, match=message):
        service.fold_in(ratings)


# --- the batch path agrees with the API ----------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A BiasedMF fit on random ratings, as a warehouse (200 users, 60 movies, k = 4)."""
    rng = np.random.default_rng(11)
    n_users, n_movies = 200, 60
    u = rng.integers(1, n_users + 1, 4000)
    m = np.minimum(rng.geometric(0.05, 4000), n_movies)
    keep = np.unique(u * 1000 + m, return_index=True)[1]
    u, m = u[keep], m[keep]
    r = rng.integers(1, 6, len(u)).astype(float)
    model = BiasedMF(n_factors=4, reg=0.1, epochs=5, seed=0).fit(Ratings.from_ids(u, m, r))
    ratings = list(zip(u.tolist(), m.tolist(), r.tolist())) + [(9999, 1, 4.0)]  # 9999: too few ratings
    return build_warehouse(
        tmp_path_factory.mktemp("fitted") / "fitted.duckdb",
        ratings=ratings,
        movies=[(i, f"Movie {i}", 1990 + i % 20) for i in range(1, n_movies + 1)],
        models=[ModelRows.from_model(model)],
        serving_model="biased_mf",
        k=5,
        min_user_ratings=3,
        similar_k=4,
        similar_min_ratings=20,
    )


def test_batch_recommendations_equal_the_api_for_every_user(fitted):
    import duckdb

    tables = dict(
        config="serving_config",
        user_factors="user_factors",
        movie_factors="movie_factors",
        user_ratings="serving_user_ratings",
    )
    with duckdb.connect(str(fitted), read_only=True) as con:
        table = batch_user_recommendations(con, **tables, block_users=7, progress=False, threads=3)
        one_thread = batch_user_recommendations(con, **tables, block_users=7, progress=False, threads=1)
    assert table.equals(one_thread)  # blocks scored on several threads come back in order, unchanged
    batch = {}
    for row in table.to_pylist():
        batch.setdefault(row["user_id"], []).append(row)
    service = Service(fitted, preload=True)
    users = [u for (u,) in query(fitted, "select distinct user_id from serving_user_ratings")]
    assert set(batch) == {u for u in users if len(service.recommend(u).items) and not service.recommend(u).cold_start}
    for user, expected in batch.items():
        result = service.recommend(user)
        assert [i.movie_id for i in result.items] == [row["movie_id"] for row in expected]
        assert [i.rank for i in result.items] == [row["rank"] for row in expected]
        assert [i.reason_movie_id for i in result.items] == [row["reason_movie_id"] for row in expected]
        np.testing.assert_allclose([i.score for i in result.items], [row["score"] for row in expected], atol=1e-5)


def test_batch_similar_movies_equal_the_api(fitted):
    import duckdb

    with duckdb.connect(str(fitted), read_only=True) as con:
        table = batch_similar_movies(
            con,
            config="serving_config",
            movie_factors="movie_factors",
            movies="dim_movies",
            block_movies=9,
            progress=False,
        )
    service = Service(fitted)
    by_movie = {}
    for row in table.to_pylist():
        by_movie.setdefault(row["movie_id"], []).append(row["similar_movie_id"])
    assert len(by_movie) == 60
    for movie, expected in by_movie.items():
        assert [i.movie_id for i in service.similar(movie).items] == expected


def test_preloaded_histories_do_not_depend_on_the_stored_order(tmp_path):
    """serving_user_ratings is stored sorted and read without ORDER BY; stored in any other order the
    preload sorts it itself, in batches of any size."""
    import duckdb

    from movierec.serving import read_user_histories

    ratings = [(3, 10, 5.0), (1, 30, 2.0), (3, 5, 4.5), (1, 10, 5.0), (2, 40, 1.0)]
    with duckdb.connect(str(tmp_path / "h.duckdb")) as con:
        for name, order in (("shuffled", ratings), ("sorted", sorted(ratings))):
            con.execute(f"create table {name} (user_id integer, movie_id integer, rating double)")
            con.executemany(f"insert into {name} values (?, ?, ?)", order)
        for name in ("shuffled", "sorted"):
            for batch_rows in (1, 2, 1000):
                h = read_user_histories(con, name, batch_rows=batch_rows)
                assert h.user_ids.tolist() == [1, 2, 3]
                assert [(m.tolist(), r.tolist()) for m, r in (h.get(u) for u in (1, 2, 3))] == [
                    ([10, 30], [5.0, 2.0]),
                    ([40], [1.0]),
                    ([5, 10], [4.5, 5.0]),
                ]
                assert h.get(4) is None and h.ratings.dtype == np.float16


# --- the warehouse while it is being rebuilt -----------------------------------------------------


def test_missing_warehouse_is_unavailable(tmp_path):
    with pytest.raises(WarehouseUnavailable, match="does not exist"):
        Service(tmp_path / "nope.duckdb").recommend(1)
    with pytest.raises(WarehouseUnavailable, match="does not exist"):
        Service(tmp_path / "nope.duckdb", preload=True).health()


def test_warehouse_without_serving_tables_is_unavailable(tmp_path):
    import duckdb

    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    with pytest.raises(WarehouseUnavailable, match="run `dbt build`"):
        Service(tmp_path / "empty.duckdb").recommend(1)


def test_per_call_mode_holds_no_lock_between_calls_and_reports_a_writer(tmp_path):
    path = hand_example(tmp_path / "w.duckdb")
    service = Service(path)
    assert service.recommend(1, k=3).items[0].movie_id == 20
    assert can_open_for_writing(path)  # nothing held between calls
    with Writer(path):
        with pytest.raises(WarehouseUnavailable, match="locked by another process"):
            service.recommend(1, k=3)
    assert service.recommend(1, k=3).items[0].movie_id == 20


def test_preloaded_service_answers_during_a_rebuild_and_reloads_after(tmp_path):
    path = hand_example(tmp_path / "p.duckdb")
    service = Service(path, preload=True, reload_interval=0.0)
    assert service.recommend(1, k=3).items[0].movie_id == 20
    assert can_open_for_writing(path)  # the snapshot holds no lock: dbt can build
    # a "rebuild" that changes movie 20's bias, still holding the write lock
    with Writer(path, "update movie_factors set bias = -5 where model_name = 'biased_mf' and movie_id = 20"):
        assert service.is_stale()
        assert service.recommend(1, k=3).items[0].movie_id == 20  # the previous snapshot answers
        assert service.health()["stale"] is True
    service.refresh()
    assert not service.is_stale()
    assert [i.movie_id for i in service.recommend(1, k=3).items] == [40, 60, 70]


def test_preloaded_service_reloads_only_once_the_file_has_settled(tmp_path):
    path = hand_example(tmp_path / "settle.duckdb")
    service = Service(path, preload=True, reload_interval=0.0, settle_seconds=3600)
    assert service.recommend(1, k=1).items[0].movie_id == 20
    Writer(path, "update movie_factors set bias = -5 where model_name = 'biased_mf' and movie_id = 20").release()
    for _ in range(5):  # changed, but not yet quiet for settle_seconds: no reload, no lock taken
        assert service.recommend(1, k=1).items[0].movie_id == 20
    assert service.is_stale() and service._reload_thread is None


def test_preloaded_service_started_during_a_rebuild_is_unavailable_until_it_ends(tmp_path):
    path = hand_example(tmp_path / "s.duckdb")
    service = Service(path, preload=True)
    with Writer(path):
        with pytest.raises(WarehouseUnavailable, match="locked"):
            service.recommend(1)
    assert service.recommend(1, k=3).items[0].movie_id == 20
