"""A factor model's compiled predictions (movierec.models._factor_kernel) against the numpy formula."""

import numpy as np
import pytest

from movierec.models._factor_kernel import factor_predictions
from movierec.models.base import FactorModel
from movierec.models.data import Ratings


def numpy_predictions(mu, bu, bi, p, q, u, i):
    out = np.full(len(u), mu)
    known_u, known_i = u >= 0, i >= 0
    if len(bu):
        out[known_u] += bu[u[known_u]]
    if len(bi):
        out[known_i] += bi[i[known_i]]
    both = known_u & known_i
    out[both] += np.einsum("ij,ij->i", p[u[both]].astype(np.float64), q[i[both]].astype(np.float64))
    return out


def test_the_kernel_is_the_formula_with_unknown_indices_and_missing_biases():
    rng = np.random.default_rng(0)
    p = rng.standard_normal((30, 7)).astype(np.float32)
    q = rng.standard_normal((20, 7)).astype(np.float32)
    bu, bi = rng.standard_normal(30), rng.standard_normal(20)
    u = rng.integers(-1, 30, 500)
    i = rng.integers(-1, 20, 500).astype(np.int32)
    for user_bias, movie_bias in ((bu, bi), (np.zeros(0), bi), (bu, np.zeros(0)), (np.zeros(0), np.zeros(0))):
        got = factor_predictions(3.5, user_bias, movie_bias, p, q, u, i)
        np.testing.assert_allclose(got, numpy_predictions(3.5, user_bias, movie_bias, p, q, u, i), rtol=1e-12)
        assert got[(u < 0) & (i < 0)].tolist() == [3.5] * int(((u < 0) & (i < 0)).sum())


def test_a_factor_model_predicts_and_measures_its_training_rmse_through_the_kernel():
    rng = np.random.default_rng(1)
    pairs = np.unique(np.c_[rng.integers(0, 40, 600), rng.integers(0, 25, 600)], axis=0)
    train = Ratings.from_ids(pairs[:, 0] + 1, pairs[:, 1] + 1, rng.integers(1, 6, len(pairs)).astype(float))
    model = FactorModel(
        global_mean=3.2,
        user_bias=rng.standard_normal(train.n_users),
        movie_bias=rng.standard_normal(train.n_movies),
        user_factors=rng.standard_normal((train.n_users, 4)).astype(np.float32),
        movie_factors=rng.standard_normal((train.n_movies, 4)).astype(np.float32),
        rating_min=1.0,
        rating_max=5.0,
    )
    model.train = train
    expected = np.clip(
        numpy_predictions(3.2, model.user_bias, model.movie_bias, model.user_factors, model.movie_factors,
                          train.user.astype(np.int64), train.movie.astype(np.int64)), 1.0, 5.0)  # fmt: skip
    np.testing.assert_allclose(model.predict(train.user_ids[train.user], train.movie_ids[train.movie]), expected)
    assert np.isclose(model._train_rmse(train), np.sqrt(np.mean((expected - train.rating) ** 2)))
    unknown = model.predict([999], [train.movie_ids[0]])  # an unknown user: mu + b_i, clipped
    assert np.isclose(unknown[0], np.clip(3.2 + model.movie_bias[0], 1.0, 5.0))


def test_mismatched_index_arrays_are_refused():
    p = np.zeros((3, 2), dtype=np.float32)
    with pytest.raises(ValueError, match="3 user indices but 1 movie indices"):
        factor_predictions(0.0, np.zeros(0), np.zeros(0), p, p, np.array([0, 1, 2]), np.array([0]))
