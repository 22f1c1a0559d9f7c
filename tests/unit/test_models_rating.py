"""Rating models (baselines, truncated SVD, ALS and Bayesian MF): known answers on tiny inline data,
then RMSE bands on the real ml-100k fold u1 (skipped when ../shared/data is missing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movierec.metrics import rmse
from movierec.models.baselines import BiasBaseline, GlobalMean, MovieMean
from movierec.models.data import Ratings
from movierec.models.mf import BayesianMF, BiasedMF, EpochLog
from movierec.models.svd import TruncatedSVD

ML_100K = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "movielens" / "ml-100k"
needs_ml100k = pytest.mark.skipif(not (ML_100K / "u1.base").exists(), reason=f"real data not present: {ML_100K}")


def tiny() -> Ratings:
    # users 10, 20; movies 100, 200:  (10, 100) = 5, (10, 200) = 3, (20, 100) = 4
    return Ratings.from_ids([10, 10, 20], [100, 200, 100], [5.0, 3.0, 4.0])


def low_rank(
    n_users: int = 60, n_movies: int = 40, rank: int = 3, observed: float = 0.5, noise: float = 0.3, seed: int = 1
) -> tuple[Ratings, Ratings]:
    """Ratings from mu + b_u + b_i + rank-`rank` interaction + noise, a random `observed` share as
    the training set and the rest as a test set (both on the same ids)."""
    rng = np.random.default_rng(seed)
    truth = (
        3.5
        + rng.normal(0, 0.3, (n_users, 1))
        + rng.normal(0, 0.3, (1, n_movies))
        + rng.normal(0, 0.6, (n_users, rank)) @ rng.normal(0, 0.6, (rank, n_movies))
    )
    ratings = truth + rng.normal(0, noise, truth.shape)
    user, movie = np.meshgrid(np.arange(n_users), np.arange(n_movies), indexing="ij")
    user, movie, ratings = user.ravel(), movie.ravel(), ratings.ravel()
    seen = rng.random(len(ratings)) < observed
    # every user and movie keeps at least one training rating
    seen[np.unique(user, return_index=True)[1]] = True
    seen[np.unique(movie, return_index=True)[1]] = True
    train = Ratings.from_ids(user[seen], movie[seen], ratings[seen])
    test = Ratings.from_ids(user[~seen], movie[~seen], ratings[~seen], train.user_ids, train.movie_ids)
    return train, test


def rmse_on(model, ratings: Ratings) -> float:
    return rmse(model.predict(ratings.user_ids[ratings.user], ratings.movie_ids[ratings.movie]), ratings.rating)


# --- baselines ------------------------------------------------------------------------------------


def test_global_mean_predicts_the_training_mean_everywhere():
    model = GlobalMean().fit(tiny())
    np.testing.assert_allclose(model.predict([10, 20, 99], [200, 999, 100]), [4.0, 4.0, 4.0])
    assert model.factor_columns == 0 and model.train_rmse == pytest.approx(np.sqrt(2 / 3))


def test_movie_mean_is_damped_toward_the_global_mean():
    # mu = 4; movie 100: (1 + 0) / (2 + 1) = 1/3; movie 200: -1 / (1 + 1) = -1/2
    model = MovieMean(damping=1.0).fit(tiny())
    np.testing.assert_allclose(model.movie_bias, [1 / 3, -1 / 2])
    np.testing.assert_allclose(model.predict([20, 10, 20], [100, 200, 999]), [4 + 1 / 3, 3.5, 4.0])
    np.testing.assert_allclose(MovieMean(damping=0.0).fit(tiny()).predict([10], [100]), [4.5])


def test_bias_baseline_matches_the_hand_solved_updates():
    # mu = 4, reg_user = reg_movie = 1, movies first (as Surprise), starting from b_u = 0.
    # Sweep 1: b_100 = ((5-4-0) + (4-4-0)) / (1+2) = 1/3        b_200 = (3-4-0) / (1+1) = -1/2
    #          b_10  = ((5-4-1/3) + (3-4+1/2)) / (1+2) = 1/18   b_20  = (4-4-1/3) / (1+1) = -1/6
    # Sweep 2: b_100 = ((5-4-1/18) + (4-4+1/6)) / 3 = 10/27     b_200 = (3-4-1/18) / 2 = -19/36
    #          b_10  = ((5-4-10/27) + (3-4+19/36)) / 3 = 17/324  b_20  = (4-4-10/27) / 2 = -5/27
    model = BiasBaseline(reg_user=1.0, reg_movie=1.0, epochs=2).fit(tiny())
    assert model.global_mean == pytest.approx(4.0)
    np.testing.assert_allclose(model.movie_bias, [10 / 27, -19 / 36])
    np.testing.assert_allclose(model.user_bias, [17 / 324, -5 / 27])
    # (10, 200) = 4 + 17/324 - 19/36; unknown user -> mu + b_i; unknown movie -> mu + b_u; both -> mu
    np.testing.assert_allclose(
        model.predict([10, 99, 20, 99], [200, 100, 999, 999]), [4 + 17 / 324 - 19 / 36, 4 + 10 / 27, 4 - 5 / 27, 4.0]
    )


def test_bias_baseline_converges_to_the_regularized_least_squares_optimum():
    train, _ = low_rank()
    model = BiasBaseline(reg_user=3.0, reg_movie=2.0, epochs=200).fit(train)
    residual = train.rating - model.global_mean - model.user_bias[train.user] - model.movie_bias[train.movie]
    # stationarity: sum of a user's residuals = reg_user * b_u, and the same for movies
    np.testing.assert_allclose(np.bincount(train.user, residual), 3.0 * model.user_bias, atol=1e-8)
    np.testing.assert_allclose(np.bincount(train.movie, residual), 2.0 * model.movie_bias, atol=1e-8)


# --- truncated SVD ---------------------------------------------------------------------------------


def test_truncated_svd_recovers_a_fully_observed_rank_two_matrix():
    rng = np.random.default_rng(0)
    matrix = 3.0 + rng.normal(0, 0.5, (8, 2)) @ rng.normal(0, 0.5, (2, 6))
    user, movie = np.meshgrid(np.arange(8), np.arange(6), indexing="ij")
    train = Ratings.from_ids(user.ravel(), movie.ravel(), matrix.ravel())
    # with unregularized biases the residual is the double-centered matrix, still of rank 2
    model = TruncatedSVD(n_factors=2, reg_user=0.0, reg_movie=0.0).fit(train)
    predicted = model.predict(user.ravel(), movie.ravel()).reshape(8, 6)
    np.testing.assert_allclose(predicted, matrix, atol=1e-5)
    assert model.factor_columns == 2 and model.singular_values[0] >= model.singular_values[1] > 0
    # one factor is not enough
    assert TruncatedSVD(n_factors=1, reg_user=0.0, reg_movie=0.0).fit(train).train_rmse > 1e-3


def test_truncated_svd_is_deterministic_and_caps_k():
    train, _ = low_rank()
    a, b = TruncatedSVD(n_factors=5).fit(train), TruncatedSVD(n_factors=5).fit(train)
    np.testing.assert_array_equal(a.user_factors, b.user_factors)
    np.testing.assert_array_equal(a.movie_factors, b.movie_factors)
    assert TruncatedSVD(n_factors=500).fit(train).factor_columns == min(train.n_users, train.n_movies) - 1


# --- ALS matrix factorization ---------------------------------------------------------------------


def test_biased_mf_train_rmse_decreases_every_epoch_and_is_exact():
    train, test = low_rank()
    model = BiasedMF(n_factors=5, reg=2.0, reg_bias=1.0, weighted_reg=False, epochs=15, seed=3).fit(
        train, validation=test
    )
    curve = [log.train_rmse for log in model.history]
    assert len(curve) == 15
    assert all(later <= earlier + 1e-9 for earlier, later in zip(curve, curve[1:])), curve
    assert curve[-1] < 0.8 * curve[0]
    # the train RMSE measured during the last sweep is that of the exported model's predictions
    assert curve[-1] == pytest.approx(rmse_on(model, train), abs=1e-6)
    assert model.train_rmse == curve[-1]
    assert model.history[-1].validation_rmse == pytest.approx(rmse_on(model, test))


def test_biased_mf_movies_satisfy_their_ridge_normal_equations():
    train, _ = low_rank()
    model = BiasedMF(n_factors=4, reg=2.0, reg_bias=0.5, weighted_reg=False, epochs=5, cg_steps=None).fit(train)
    residual = train.rating - (
        model.global_mean
        + model.user_bias[train.user]
        + model.movie_bias[train.movie]
        + np.einsum(
            "ij,ij->i",
            model.user_factors[train.user].astype(np.float64),
            model.movie_factors[train.movie].astype(np.float64),
        )
    )
    # the movies are solved last: d/d(b_i, q_i) of the objective is 0 for each movie
    np.testing.assert_allclose(np.bincount(train.movie, residual), 0.5 * model.movie_bias, atol=1e-4)
    for f in range(4):
        gradient = np.bincount(train.movie, residual * model.user_factors[train.user, f])
        np.testing.assert_allclose(gradient, 2.0 * model.movie_factors[:, f], atol=1e-4)


def test_biased_mf_weighted_regularization_scales_with_counts():
    train, _ = low_rank()
    model = BiasedMF(n_factors=3, reg=0.1, reg_bias=0.1, weighted_reg=True, epochs=4, cg_steps=None).fit(train)
    residual = train.rating - (
        model.global_mean
        + model.user_bias[train.user]
        + model.movie_bias[train.movie]
        + np.einsum(
            "ij,ij->i",
            model.user_factors[train.user].astype(np.float64),
            model.movie_factors[train.movie].astype(np.float64),
        )
    )
    n_i = np.bincount(train.movie)
    np.testing.assert_allclose(np.bincount(train.movie, residual), 0.1 * n_i * model.movie_bias, atol=1e-4)


def test_biased_mf_conjugate_gradient_steps_approach_the_exact_solve():
    train, _ = low_rank()
    exact = BiasedMF(n_factors=3, reg=2.0, weighted_reg=False, epochs=1, cg_steps=None).fit(train)
    # k + 1 = 4 unknowns per row: 4 CG steps solve each row's system (up to float32 rounding)
    full = BiasedMF(n_factors=3, reg=2.0, weighted_reg=False, epochs=1, cg_steps=4).fit(train)
    np.testing.assert_allclose(full.movie_factors, exact.movie_factors, atol=1e-3)
    # the default 3 steps, warm-started, converge to the same training error
    cg = BiasedMF(n_factors=3, reg=2.0, weighted_reg=False, epochs=30).fit(train)
    exact30 = BiasedMF(n_factors=3, reg=2.0, weighted_reg=False, epochs=30, cg_steps=None).fit(train)
    assert cg.train_rmse == pytest.approx(exact30.train_rmse, abs=2e-3)


def test_biased_mf_is_deterministic_for_a_seed():
    train, _ = low_rank()
    a = BiasedMF(n_factors=4, epochs=3, seed=7).fit(train)
    b = BiasedMF(n_factors=4, epochs=3, seed=7).fit(train)
    c = BiasedMF(n_factors=4, epochs=3, seed=8).fit(train)
    np.testing.assert_array_equal(a.user_factors, b.user_factors)
    np.testing.assert_array_equal(a.movie_factors, b.movie_factors)
    np.testing.assert_array_equal(a.user_bias, b.user_bias)
    assert not np.array_equal(a.movie_factors, c.movie_factors)
    # one thread (the default on small data) or several: the same batches, the same numbers
    d = BiasedMF(n_factors=4, epochs=3, seed=7, threads=2, block_entries=64).fit(train)
    e = BiasedMF(n_factors=4, epochs=3, seed=7, threads=1, block_entries=64).fit(train)
    np.testing.assert_array_equal(d.movie_factors, e.movie_factors)


def test_biased_mf_beats_the_bias_baseline_on_low_rank_data():
    train, test = low_rank(n_users=120, n_movies=80)
    baseline = rmse_on(BiasBaseline().fit(train), test)
    mf = rmse_on(BiasedMF(n_factors=3, reg=5.0, reg_bias=1.0, weighted_reg=False, epochs=10).fit(train), test)
    assert mf < 0.8 * baseline


def test_biased_mf_reports_progress(capsys):
    train, test = low_rank()
    logs: list[EpochLog] = []
    BiasedMF(n_factors=2, epochs=2, progress=logs.append).fit(train, validation=test)
    assert [log.epoch for log in logs] == [1, 2] and logs[-1].validation_rmse is not None
    BiasedMF(n_factors=2, epochs=2, verbose=True).fit(train)
    err = capsys.readouterr().err
    assert "epoch   2  train RMSE" in err and "validation" not in err


def test_biased_mf_handles_users_and_movies_without_ratings():
    # ids fixed in advance: user 3 and movie 30 have no rating; they keep zero bias and factors
    train = Ratings.from_ids(
        [1, 1, 2, 2], [10, 20, 10, 20], [4.0, 2.0, 5.0, 3.0], user_ids=[1, 2, 3], movie_ids=[10, 20, 30]
    )
    model = BiasedMF(n_factors=2, epochs=3).fit(train)
    assert np.isfinite(model.user_factors).all() and np.isfinite(model.movie_factors).all()
    assert model.user_bias[2] == 0.0 and model.movie_bias[2] == 0.0
    assert model.predict([3], [30])[0] == pytest.approx(3.5)


def test_biased_mf_with_zero_epochs_keeps_its_starting_point():
    train, _ = low_rank()
    model = BiasedMF(n_factors=2, epochs=0).fit(train)
    assert model.history == [] and model.factor_columns == 2
    np.testing.assert_array_equal(model.user_factors, 0.0)  # users start at zero: predictions are mu
    np.testing.assert_allclose(model.predict(train.user_ids[:3], train.movie_ids[:3]), train.global_mean)


# --- Bayesian MF ----------------------------------------------------------------------------------


def test_bayesian_mf_is_deterministic_and_exports_the_sample_average():
    train, test = low_rank()
    a = BayesianMF(n_factors=3, samples=6, burn_in=2, seed=5).fit(train, validation=test)
    b = BayesianMF(n_factors=3, samples=6, burn_in=2, seed=5).fit(train)
    np.testing.assert_array_equal(a.user_factors, b.user_factors)
    assert a.factor_columns == 3 * 6  # six rank-3 samples side by side
    assert [log.validation_rmse is None for log in a.history] == [True, True] + [False] * 6
    # the last report is the RMSE of the average over all kept samples, i.e. of the export
    assert a.history[-1].validation_rmse == pytest.approx(rmse_on(a, test), abs=1e-6)


def test_bayesian_mf_beats_the_bias_baseline_on_low_rank_data():
    train, test = low_rank(n_users=120, n_movies=80)
    baseline = rmse_on(BiasBaseline().fit(train), test)
    bayes = rmse_on(BayesianMF(n_factors=3, samples=30, burn_in=5).fit(train), test)
    assert bayes < 0.8 * baseline


# --- every rating model ---------------------------------------------------------------------------

ALL_MODELS = [
    GlobalMean,
    MovieMean,
    BiasBaseline,
    lambda: TruncatedSVD(n_factors=2),
    lambda: BiasedMF(n_factors=2, epochs=2),
    lambda: BayesianMF(n_factors=2, samples=3, burn_in=1),
]


@pytest.mark.parametrize("make", ALL_MODELS)
def test_unknown_users_and_movies_get_the_known_parts(make):
    train, _ = low_rank()
    model = make().fit(train)
    known_user, known_movie = train.user_ids[0], train.movie_ids[0]
    predicted = model.predict([known_user, -5, known_user, -5], [known_movie, known_movie, -7, -7])
    assert np.isfinite(predicted).all()
    mu = model.global_mean
    np.testing.assert_allclose(
        predicted[1:],
        [
            np.clip(mu + model.movie_bias[0], model.rating_min, model.rating_max),
            np.clip(mu + model.user_bias[0], model.rating_min, model.rating_max),
            mu,
        ],
    )
    assert model.rating_min <= predicted[0] <= model.rating_max
    assert model.predicts_ratings and np.isfinite(model.train_rmse)


def test_predict_in_chunks_answers_the_same():
    train, test = low_rank()
    model = BiasedMF(n_factors=3, epochs=2).fit(train)
    users, movies = test.user_ids[test.user], test.movie_ids[test.movie]
    np.testing.assert_array_equal(model.predict(users, movies, chunk=7), model.predict(users, movies))


# --- ml-100k u1 -----------------------------------------------------------------------------------


def read_fold(name: str) -> pd.DataFrame:
    return pd.read_csv(ML_100K / name, sep="\t", header=None, names=["user_id", "movie_id", "rating", "ts"])


@pytest.fixture(scope="module")
def u1() -> tuple[Ratings, pd.DataFrame]:
    base = read_fold("u1.base")
    return Ratings.from_ids(base.user_id, base.movie_id, base.rating), read_fold("u1.test")


def u1_rmse(model, u1) -> float:
    train, test = u1
    model.fit(train)
    return rmse(model.predict(test.user_id.to_numpy(), test.movie_id.to_numpy()), test.rating.to_numpy())


@needs_ml100k
@pytest.mark.parametrize(
    ("make", "low", "high"),
    [
        (GlobalMean, 1.14, 1.17),  # measured 1.1537
        (lambda: BiasBaseline(), 0.955, 0.965),  # 0.9599, as Surprise BaselineOnly
        (lambda: BiasBaseline(reg_user=5.0, reg_movie=2.0), 0.945, 0.96),  # 0.9531
        (lambda: TruncatedSVD(n_factors=10), 0.935, 0.95),  # 0.9430
        (lambda: BiasedMF(n_factors=20, reg=14.0, reg_bias=3.0, weighted_reg=False, epochs=20), 0.915, 0.93),  # 0.9237
    ],
)
def test_rmse_on_ml100k_u1(u1, make, low, high):
    assert low <= u1_rmse(make(), u1) <= high


@needs_ml100k
@pytest.mark.slow
def test_bayesian_mf_rmse_on_ml100k_u1(u1):
    assert 0.895 <= u1_rmse(BayesianMF(n_factors=10, samples=200, burn_in=10), u1) <= 0.912  # measured 0.9054
