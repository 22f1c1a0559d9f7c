"""The fold-in contract, one conformance suite over every factor model that serves from the
warehouse (movierec.models.registry.FACTOR_MODELS), in the style of lkpy's shared component tests:
a model is covered by being listed there (and given converging settings below).

`fold_in(movie_index, ratings)` is the model's own user step against its fixed movie side, so a
training user's own ratings must give back (nearly) that user's fitted bias and factors once the fit
has converged; the serving layer runs the same code from the stored parameters alone."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.models.data import Ratings
from movierec.models.registry import FACTOR_MODELS, factor_model_class
from movierec.serving import ModelFactors, fold_in_user

# Settings under which each fit converges on the data below (more epochs than the defaults), and the
# largest difference allowed between a folded-in user and the stored one (measured in brackets).
CONVERGED = {
    "global_mean": ({}, 0.0),  # nothing per user
    "movie_mean": ({}, 0.0),  # nothing per user
    "bias_baseline": ({"epochs": 10}, 1e-9),  # exact (2e-16)
    "truncated_svd": ({"n_factors": 4}, 1e-4),  # (3e-8)
    "biased_mf": ({"n_factors": 5, "reg": 0.05, "reg_bias": 0.05, "epochs": 40}, 1e-4),  # (1e-5)
    "ials": ({"n_factors": 4, "reg": 0.03, "iterations": 60}, 1e-3),  # (4e-4)
}


@pytest.fixture(scope="module")
def train() -> Ratings:
    rng = np.random.default_rng(3)
    n_users, n_movies, k = 300, 60, 5
    p, q = rng.normal(0, 0.5, (n_users, k)), rng.normal(0, 0.5, (n_movies, k))
    mask = rng.random((n_users, n_movies)) < 0.4
    u, m = np.nonzero(mask)
    r = np.clip(np.round(3.6 + (p @ q.T)[u, m] + rng.normal(0, 0.5, len(u))), 1, 5)
    return Ratings.from_ids(u + 1, m + 1, r)


def test_every_served_factor_model_is_in_the_suite():
    assert set(CONVERGED) == set(FACTOR_MODELS)
    for name, cls in FACTOR_MODELS.items():
        assert cls().name == name  # the name it writes into model_runs is the one serving looks up


@pytest.mark.parametrize("name", sorted(FACTOR_MODELS))
def test_folding_in_a_training_user_gives_back_their_fitted_vector(name, train):
    settings, tolerance = CONVERGED[name]
    model = FACTOR_MODELS[name](**settings).fit(train)
    user_bias = model.user_bias if len(model.user_bias) else np.zeros(train.n_users)
    csr = train.csr()
    worst = 0.0
    for user in range(0, train.n_users, 7):
        movies = csr.indices[csr.indptr[user] : csr.indptr[user + 1]]
        ratings = csr.data[csr.indptr[user] : csr.indptr[user + 1]]
        bias, vector = model.fold_in(movies, ratings)
        assert vector.dtype == np.float32 and vector.shape == (model.factor_columns,)
        worst = max(
            worst,
            abs(bias - user_bias[user]),
            np.abs(vector - model.user_factors[user]).max() if model.factor_columns else 0.0,
        )
    assert worst <= tolerance, worst


@pytest.mark.parametrize("name", sorted(FACTOR_MODELS))
def test_serving_folds_in_with_the_models_own_math(name, train):
    """From the stored parameters alone (what the warehouse keeps), the serving layer's fold-in is the
    fitted model's, to the bit: the same function runs."""
    settings, _ = CONVERGED[name]
    model = FACTOR_MODELS[name](**settings).fit(train)
    stored = ModelFactors(
        name,
        model.global_mean,
        model.hyperparameters(),
        model.train.movie_ids.astype(np.int64),
        model.movie_bias,
        model.movie_factors.astype(np.float32),
        has_user_bias=bool(np.any(model.user_bias != 0)),
    )
    movies, ratings = np.array([0, 3, 5, 8]), np.array([5.0, 4.0, 1.0, 3.5])
    bias, vector = fold_in_user(stored, movies, ratings)
    own_bias, own_vector = model.fold_in(movies, ratings)
    assert bias == own_bias
    np.testing.assert_array_equal(vector, own_vector)
    empty_bias, empty = fold_in_user(stored, np.zeros(0, dtype=np.int64), np.zeros(0))
    assert empty_bias == 0.0 and not empty.any() and empty.shape == (model.factor_columns,)


def test_an_unknown_model_name_has_no_fold_in():
    with pytest.raises(KeyError, match="no factor model class is named 'mf'"):
        factor_model_class("mf")
