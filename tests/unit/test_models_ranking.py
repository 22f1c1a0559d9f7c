"""Ranking models: popularity baselines, kNN with baseline, EASE and implicit ALS."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movierec.metrics import ranking_metrics, split_per_user
from movierec.models.baselines import BiasBaseline
from movierec.models.data import Ratings
from movierec.models.knn import ItemKNN, SimilarityTooLarge, UserKNN
from movierec.models.popularity import DampedPopularity, Popularity
from movierec.models.topn import EASE, ImplicitALS
from tests.conftest import needs, shared

ML100K = shared("movielens", "ml-100k")


def ratings(rows: list[tuple[int, int, float]]) -> Ratings:
    user, movie, rating = zip(*rows)
    return Ratings.from_ids(np.array(user), np.array(movie), np.array(rating, dtype=float))


def random_ratings(n_users: int = 30, n_movies: int = 25, density: float = 0.4, seed: int = 0) -> Ratings:
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_movies)) < density
    mask[np.arange(n_users), rng.integers(0, n_movies, n_users)] = True  # every user rates something
    mask[rng.integers(0, n_users, n_movies), np.arange(n_movies)] = True  # every movie is rated
    user, movie = np.nonzero(mask)
    return Ratings.from_ids(user + 100, movie * 10 + 1, rng.integers(1, 6, len(user)).astype(float))


def top_lists(model, user_ids, k: int) -> dict[int, list[int]]:
    user, rank, movie, _ = model.recommend(np.asarray(user_ids), k=k)
    out: dict[int, list[int]] = {}
    for u, r, m in zip(user, rank, movie):
        out.setdefault(int(u), []).append(int(m))
        assert r == len(out[int(u)])  # ranks 1, 2, ... in order, no gaps
    return out


# Popularity -------------------------------------------------------------------------------------

# movie 10: ratings 5, 4, 3 (n 3, sum 12); 20: 5, 5 (n 2, sum 10); 30: 1, 2 (n 2, sum 3); 40: 4 (n 1)
SMALL = ratings([(1, 10, 5), (2, 10, 4), (3, 10, 3), (1, 20, 5), (2, 20, 5), (2, 30, 1), (3, 30, 2), (5, 40, 4)])


def test_popularity_orders_by_count_and_breaks_ties_by_movie_id():
    model = Popularity().fit(SMALL)
    # user 5 saw 40; counts 10: 3, 20: 2, 30: 2 -> 10, then the tie 20/30 by id
    # user 1 saw 10 and 20 -> 30 (2), 40 (1); user 2 saw 10, 20, 30 -> only 40; 99 is unknown: skipped
    assert top_lists(model, [5, 1, 2, 99], k=3) == {5: [10, 20, 30], 1: [30, 40], 2: [40]}


def test_damped_popularity_by_hand():
    # mu = 29 / 8 = 3.625; m = 2: 10 -> (12 + 7.25) / 5 = 3.85, 20 -> (10 + 7.25) / 4 = 4.3125,
    # 30 -> (3 + 7.25) / 4 = 2.5625, 40 -> (4 + 7.25) / 3 = 3.75
    model = DampedPopularity(damping=2).fit(SMALL)
    np.testing.assert_allclose(model.movie_scores, [3.85, 4.3125, 2.5625, 3.75])
    assert top_lists(model, [3], k=4) == {3: [20, 40]}  # user 3 saw 10 and 30
    # m = 0 is the plain mean: 10 -> 4, 20 -> 5, 30 -> 1.5, 40 -> 4; the tie 10/40 goes to 10
    user, rank, movie, _ = DampedPopularity(damping=0).fit(SMALL).recommend([5], k=4, exclude_seen=False)
    assert movie.tolist() == [20, 10, 40, 30] and rank.tolist() == [1, 2, 3, 4]


# kNN with baseline ------------------------------------------------------------------------------


def reference_knn(train: Ratings, item_based: bool, k: int, shrinkage: float, min_k: int = 1) -> np.ndarray:
    """Loop-by-loop textbook kNN-baseline: the unclipped prediction for every (user, movie)."""
    base_model = BiasBaseline().fit(train)
    base = base_model.global_mean + base_model.user_bias[:, None] + base_model.movie_bias[None, :]
    observed = np.full((train.n_users, train.n_movies), np.nan)
    observed[train.user, train.movie] = train.rating
    residual = observed - base
    x = residual if item_based else residual.T  # similarity between the columns of x
    n = x.shape[1]
    sim = np.zeros((n, n))
    for a in range(n):
        for b in range(n):
            both = ~np.isnan(x[:, a]) & ~np.isnan(x[:, b])
            if a == b or not both.any():
                continue
            ea, eb = x[both, a], x[both, b]
            denominator = np.sqrt((ea**2).sum() * (eb**2).sum())
            if denominator > 0:
                sim[a, b] = ea @ eb / denominator * both.sum() / (both.sum() + shrinkage)
    pred = base.copy()
    for u in range(train.n_users):
        for i in range(train.n_movies):
            if item_based:  # movies j rated by u, by similarity to i
                candidates = [(sim[i, j], residual[u, j]) for j in range(n) if not np.isnan(residual[u, j])]
            else:  # users v who rated i, by similarity to u
                candidates = [(sim[u, v], residual[v, i]) for v in range(n) if not np.isnan(residual[v, i])]
            candidates = sorted((c for c in candidates if c[0] != 0), key=lambda c: -c[0])[:k]
            if len(candidates) >= min_k and candidates:
                s, e = np.array(candidates).T
                pred[u, i] += (s * e).sum() / np.abs(s).sum()
    return pred


@pytest.mark.parametrize("model_class, item_based", [(ItemKNN, True), (UserKNN, False)])
@pytest.mark.parametrize("k, shrinkage, min_k", [(3, 0.0, 1), (5, 10.0, 2)])
def test_knn_matches_a_loop_reference(model_class, item_based, k, shrinkage, min_k):
    train = random_ratings(n_users=14, n_movies=11, density=0.5, seed=3)
    model = model_class(n_neighbors=k, shrinkage=shrinkage, min_neighbors=min_k).fit(train)
    expected = reference_knn(train, item_based, k, shrinkage, min_k)
    np.testing.assert_allclose(model.score_users(np.arange(train.n_users)), expected, rtol=1e-5, atol=1e-6)
    uu, ii = np.meshgrid(np.arange(train.n_users), np.arange(train.n_movies), indexing="ij")
    predicted = model.predict(train.user_ids[uu.ravel()], train.movie_ids[ii.ravel()])
    np.testing.assert_allclose(predicted, np.clip(expected.ravel(), 1, 5), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("model_class", [ItemKNN, UserKNN])
def test_knn_predictions_are_the_ranking_scores_to_the_bit(model_class):
    # held-out predictions and ranking scores run the same kernel routine per pair: clipping the
    # scores gives exactly the predictions, also with ties at the n-th similarity (shrinkage 0 on
    # few co-ratings gives equal similarities)
    train = random_ratings(n_users=40, n_movies=30, density=0.3, seed=8)
    model = model_class(n_neighbors=4, shrinkage=0.0, min_neighbors=2).fit(train)
    scores = model.score_users(np.arange(train.n_users))
    uu, ii = np.meshgrid(np.arange(train.n_users), np.arange(train.n_movies), indexing="ij")
    predicted = model.predict(train.user_ids[uu.ravel()], train.movie_ids[ii.ravel()])
    assert np.array_equal(predicted, np.clip(scores.ravel(), 1, 5))


def test_user_knn_propagates_the_identical_users_residual():
    # users 1 and 2 rate movies 10, 20, 30 alike; only 1 rated 40. User 3 disagrees with both.
    train = ratings(
        [
            (1, 10, 5),
            (1, 20, 1),
            (1, 30, 4),
            (1, 40, 2),
            (2, 10, 5),
            (2, 20, 1),
            (2, 30, 4),
            (3, 10, 1),
            (3, 20, 5),
            (3, 30, 2),
            (3, 40, 5),
        ]
    )
    model = UserKNN(n_neighbors=1, shrinkage=0).fit(train)
    u1, u2, u3 = 0, 1, 2
    assert model.similarity[u2, u1] > model.similarity[u2, u3]
    b = model.baseline
    baseline = lambda u, i: b.global_mean + b.user_bias[u] + b.movie_bias[i]  # noqa: E731
    movie_40 = 3
    # prediction for (2, 40) = b_{2,40} + e_{1,40} (the only neighbour kept is user 1)
    expected = baseline(u2, movie_40) + (2 - baseline(u1, movie_40))
    assert model.predict([2], [40])[0] == pytest.approx(expected)


def test_item_knn_propagates_the_identical_movies_residual():
    # movies 10 and 20 get identical ratings from users 1..4; user 5 rated 10 (and 30) but not 20.
    train = ratings(
        [
            (1, 10, 5),
            (2, 10, 2),
            (3, 10, 4),
            (4, 10, 1),
            (1, 20, 5),
            (2, 20, 2),
            (3, 20, 4),
            (4, 20, 1),
            (1, 30, 3),
            (2, 30, 3),
            (5, 10, 4),
            (5, 30, 2),
        ]
    )
    model = ItemKNN(n_neighbors=1, shrinkage=0).fit(train)
    b = model.baseline
    baseline = lambda u, i: b.global_mean + b.user_bias[u] + b.movie_bias[i]  # noqa: E731
    u5, m10, m20 = 4, 0, 1
    expected = baseline(u5, m20) + (4 - baseline(u5, m10))
    assert model.predict([5], [20])[0] == pytest.approx(expected)


def test_knn_unknown_ids_fall_back_to_the_baseline():
    train = random_ratings(seed=1)
    model = ItemKNN().fit(train)
    baseline = BiasBaseline().fit(train)
    ids = ([999, train.user_ids[0], 999], [train.movie_ids[0], 12345, 12345])
    np.testing.assert_allclose(model.predict(*ids), baseline.predict(*ids))
    np.testing.assert_allclose(model.predict(*ids)[2], train.global_mean)


@pytest.mark.parametrize("model_class, var", [(ItemKNN, "subset_top_n_movies"), (UserKNN, "subset_user_fraction")])
def test_knn_memory_guard_names_the_subset_vars(model_class, var):
    with pytest.raises(SimilarityTooLarge, match=var):
        model_class(max_memory_gb=1e-9).fit(random_ratings())


def test_ease_memory_guard():
    with pytest.raises(MemoryError, match="subset_top_n_movies"):
        EASE(max_memory_gb=1e-9).fit(random_ratings())


# Every model ------------------------------------------------------------------------------------

ALL_MODELS = [
    Popularity,
    lambda: DampedPopularity(5),
    lambda: ItemKNN(n_neighbors=5),
    lambda: UserKNN(n_neighbors=5),
    lambda: EASE(reg=10),
    lambda: ImplicitALS(n_factors=4, reg=0.01, iterations=4),
]


@pytest.mark.parametrize("make", ALL_MODELS)
def test_recommendations_exclude_seen_movies_and_rank_without_gaps(make):
    train = random_ratings(seed=2)
    model = make().fit(train)
    user, rank, movie, score = model.recommend(train.user_ids, k=5)
    frame = pd.DataFrame({"user_id": user, "rank": rank, "movie_id": movie, "score": score})
    seen = set(zip(train.user_ids[train.user].tolist(), train.movie_ids[train.movie].tolist()))
    assert not seen & set(zip(frame.user_id.tolist(), frame.movie_id.tolist()))
    for _, group in frame.groupby("user_id"):
        n_unseen = train.n_movies - len({m for u, m in seen if u == group.user_id.iloc[0]})
        assert group["rank"].tolist() == list(range(1, min(5, n_unseen) + 1))
        assert group.movie_id.is_unique
        assert (np.diff(group.score.to_numpy()) <= 0).all()


def test_ease_matches_the_constrained_ridge_regression():
    # column j of B solves min |x_j - X_{-j} b|^2 + reg |b|^2 with b_j = 0
    train = random_ratings(n_users=20, n_movies=8, seed=4)
    reg = 3.0
    model = EASE(reg=reg).fit(train)
    x = train.csr(np.ones(len(train))).toarray()
    for j in range(train.n_movies):
        others = np.delete(np.arange(train.n_movies), j)
        xo = x[:, others]
        b = np.linalg.solve(xo.T @ xo + reg * np.eye(len(others)), xo.T @ x[:, j])
        np.testing.assert_allclose(model.weights[others, j], b, rtol=1e-4, atol=1e-6)
        assert model.weights[j, j] == 0


def test_ease_inverts_in_float64_when_the_float32_cholesky_fails(monkeypatch, capsys):
    from scipy.linalg import lapack

    train = random_ratings(n_users=20, n_movies=8, seed=4)
    expected = EASE(reg=3.0).fit(train).weights
    monkeypatch.setattr(lapack, "spotrf", lambda a, **kwargs: (a, 3))  # "not positive definite"
    model = EASE(reg=3.0).fit(train)
    assert "float32 Cholesky inverse failed (LAPACK info 3): inverting in float64" in capsys.readouterr().err
    np.testing.assert_allclose(model.weights, expected, rtol=1e-4, atol=1e-6)
    assert model.weights.dtype == np.float32


def test_ials_movie_factors_solve_the_weighted_least_squares_given_the_users():
    # the last half-sweep solves each h_i exactly:
    # (sum_{u in U_i} w_u w_u^T + a W^T W + reg (n_i + a n_users) I) h_i = sum_{u in U_i} w_u
    train = random_ratings(n_users=25, n_movies=12, seed=5)
    a, reg = 0.2, 0.05
    model = ImplicitALS(n_factors=3, reg=reg, unobserved_weight=a, iterations=3).fit(train)
    w = model.user_factors.astype(np.float64)
    x = train.csr(np.ones(len(train))).toarray()
    for i in range(train.n_movies):
        raters = w[x[:, i] > 0]
        lhs = raters.T @ raters + a * w.T @ w + reg * (len(raters) + a * train.n_users) * np.eye(3)
        np.testing.assert_allclose(
            model.movie_factors[i], np.linalg.solve(lhs, raters.sum(axis=0)), rtol=1e-4, atol=1e-6
        )
    assert model.factor_columns == 3 and not model.user_bias.any() and not model.movie_bias.any()


@pytest.mark.parametrize("make", [lambda: EASE(reg=10), lambda: ImplicitALS(n_factors=4, iterations=3, seed=7)])
def test_top_n_models_are_deterministic(make):
    train = random_ratings(seed=6)
    first, second = make().fit(train), make().fit(train)
    for a, b in zip(first.recommend(train.user_ids, k=5), second.recommend(train.user_ids, k=5)):
        np.testing.assert_array_equal(a, b)
    if isinstance(first, ImplicitALS):
        np.testing.assert_array_equal(first.user_factors, second.user_factors)
        assert not np.array_equal(
            first.user_factors, ImplicitALS(n_factors=4, iterations=3, seed=8).fit(train).user_factors
        )


# Quality on ml-100k (the benchmark protocol) ----------------------------------------------------


@pytest.mark.slow
@needs(ML100K)
@pytest.mark.parametrize(
    "make, low, high",
    [
        (Popularity, 0.23, 0.27),  # benchmark: 0.247
        (lambda: EASE(reg=500), 0.47, 0.51),  # benchmark: 0.492
        (ImplicitALS, 0.47, 0.51),  # the chosen defaults; benchmark: 0.487
    ],
)
def test_ndcg_at_10_on_ml100k(make, low, high):
    frame = pd.read_csv(ML100K / "u.data", sep="\t", names=["user_id", "movie_id", "rating", "timestamp"])
    is_train = split_per_user(frame.user_id.to_numpy(), 0.75, seed=42)
    train, test = frame[is_train], frame[~is_train]
    model = make().fit(Ratings.from_ids(train.user_id.to_numpy(), train.movie_id.to_numpy(), train.rating.to_numpy()))
    user, rank, movie, _ = model.recommend(np.unique(test.user_id), k=10)
    ndcg = ranking_metrics({"user_id": user, "rank": rank, "movie_id": movie}, test, 10)["ndcg"]
    assert low <= ndcg <= high
