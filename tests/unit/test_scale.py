"""Size rules: the settings that follow the training data's size, and what they log."""

from __future__ import annotations

import numpy as np

from movierec.models import scale
from movierec.models.knn import ItemKNN, residual_similarity
from tests.unit.test_models_ranking import random_ratings


def test_bayesian_mf_keeps_the_configured_samples_while_they_fit(capsys):
    assert scale.bayesian_mf_sweeps(100, 10, 80_000) == (10, 100)  # an ml-100k fold
    assert scale.bayesian_mf_sweeps(100, 10, 450_000) == (10, 100)  # 4.95e7 rating-sweeps
    assert capsys.readouterr().err == ""
    assert scale.bayesian_mf_sweeps(100, 10, 986_088) == (10, 40)  # the demo: 50 sweeps fit 5e7
    assert scale.bayesian_mf_sweeps(100, 10, 9_907_209) == (10, scale.BPMF_MIN_SAMPLES)  # medium: the floor


def test_bayesian_mf_samples_shrink_with_the_data_and_say_so(capsys):
    full = 99_072_112
    assert scale.bayesian_mf_sweeps(100, 10, 40_000_000) == (10, scale.BPMF_MIN_SAMPLES)
    capsys.readouterr()
    burn_in, samples = scale.bayesian_mf_sweeps(100, 10, full)
    assert (burn_in, samples) == (scale.BPMF_LARGE_SWEEPS, scale.BPMF_LARGE_SWEEPS)  # a short chain at full size
    assert (
        "bayesian_mf: 99,072,112 training ratings: 5 Gibbs samples after 5 burn-in sweeps instead of "
        "var bpmf_samples=100 after 10" in capsys.readouterr().err
    )
    assert scale.bayesian_mf_sweeps(40, 10, 1_000_000) == (10, 40)  # 50 sweeps fit 5e7
    assert scale.bayesian_mf_sweeps(5, 10, 9_907_209) == (10, 5)  # never more than asked
    assert scale.bayesian_mf_sweeps(3, 2, full) == (2, 3)


def test_the_prize_models_and_the_blend_members_follow_the_same_rules_as_their_fit_models(capsys):
    from movierec.models.blend import make_rating_model

    meta = {"prize_samples": 30, "prize_burn_in": 5, "bpmf_samples": 100, "factors": 50, "mf_epochs": 10}
    for name in ("bayesian_svdpp", "bayesian_timesvdpp"):
        assert (make_rating_model(name, meta).burn_in, make_rating_model(name, meta).samples) == (5, 30)
        demo = make_rating_model(name, meta, 986_088)  # 35 sweeps fit the budget: unchanged
        assert (demo.burn_in, demo.samples) == (5, 30)
        assert capsys.readouterr().err == ""
        medium = make_rating_model(name, meta, 9_907_209)
        assert (medium.burn_in, medium.samples) == (5, scale.BPMF_MIN_SAMPLES)
        assert f"{name}: 9,907,209 training ratings: 10 Gibbs samples after 5 burn-in sweeps instead of " in (
            capsys.readouterr().err
        )
    full = 99_072_112
    bpmf = make_rating_model("bayesian_mf", meta, full)
    assert (bpmf.burn_in, bpmf.samples) == scale.bayesian_mf_sweeps(100, scale.BPMF_BURN_IN, full)
    assert make_rating_model("biased_mf", meta, full).n_factors == scale.biased_mf_factors(50, 10, full) < 50


def test_biased_mf_keeps_its_factors_while_they_fit_else_the_most_that_fit(capsys):
    assert scale.biased_mf_factors(50, 10, 986_088) == 50  # the demo
    assert scale.biased_mf_factors(50, 10, 9_907_209) == 50  # medium: 2.6e11 of 5e11
    assert capsys.readouterr().err == ""
    full = 99_072_112
    chosen = scale.biased_mf_factors(50, 10, full)
    assert full * (chosen + 1) ** 2 * 10 <= scale.MF_GRAM_WORK < full * (chosen + 2) ** 2 * 10
    assert chosen == 21
    assert "biased_mf: 99,072,112 training ratings: 21 factors instead of var factors=50" in capsys.readouterr().err
    assert scale.biased_mf_factors(50, 10, 10**10) == scale.MF_MIN_FACTORS  # the floor
    assert scale.biased_mf_factors(8, 10, 10**10) == 8  # never more than asked


def test_biased_mf_stops_after_a_few_epochs_only_at_the_full_size(capsys):
    from movierec.models.blend import make_rating_model

    assert scale.biased_mf_epochs(10, 9_907_209) == 10  # medium: every epoch asked for
    assert scale.biased_mf_epochs(4, 99_072_112) == 4  # never more than asked
    assert capsys.readouterr().err == ""
    assert scale.biased_mf_epochs(10, 99_072_112) == scale.MF_LARGE_EPOCHS == 6
    assert "biased_mf: 99,072,112 training ratings: 6 epochs instead of var mf_epochs=10" in capsys.readouterr().err
    assert make_rating_model("biased_mf", {"mf_epochs": 10}, 99_072_112).epochs == 6  # the blend's member too


def test_similarity_users_all_within_budget_else_a_fixed_prefix_that_fits(capsys):
    counts = np.array([10, 20, 30, 40, 50])
    assert scale.similarity_users(counts, budget=5500) is None
    keep = scale.similarity_users(counts, budget=3000)
    assert (counts[keep] ** 2).sum() <= 3000 and len(keep) >= 1
    assert np.array_equal(keep, scale.similarity_users(counts, budget=3000))  # deterministic
    assert "item_knn: similarities from" in capsys.readouterr().err


def test_item_knn_on_a_user_sample_uses_only_those_users_for_similarities():
    train = random_ratings()
    counts = np.bincount(train.user, minlength=train.n_users).astype(float)
    budget = float((counts**2).sum()) / 3
    sampled = ItemKNN(n_neighbors=5, max_similarity_pairs=budget).fit(train)
    keep = scale.similarity_users(counts, budget)
    full = ItemKNN(n_neighbors=5).fit(train)
    assert 0 < len(keep) < train.n_users and not np.allclose(sampled.similarity, full.similarity)
    # numerators and sums of squares from the sampled users' residuals only (the baseline is
    # fitted on every rating either way); overlaps scaled back to the whole data
    pattern = train.csr(np.ones(len(train)))
    share = pattern[keep].nnz / pattern.nnz
    expected = residual_similarity(full.residuals[keep], pattern[keep], 100.0, overlap_scale=1 / share)
    np.testing.assert_allclose(sampled.similarity, expected, rtol=1e-6)
    assert np.isfinite(sampled.predict(train.user_ids[train.user[:50]], train.movie_ids[train.movie[:50]])).all()


def test_ease_on_a_user_sample_uses_the_scaled_gram_of_those_users():
    from movierec.models.topn import EASE, gram_matrix

    train = random_ratings(n_users=60, n_movies=20)
    x = train.csr(np.ones(len(train), dtype=np.float32))
    counts = np.diff(x.indptr).astype(float)
    budget = float((counts**2).sum()) / 2
    sampled = EASE(reg=10, max_gram_pairs=budget).fit(train)
    keep = scale.similarity_users(counts, budget)
    gram = gram_matrix(x[keep]) * (len(train) / x[keep].nnz) + 10 * np.eye(20)
    p = np.linalg.inv(gram)
    expected = -p / np.diag(p)[None, :]
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(sampled.weights, expected, rtol=1e-4, atol=1e-6)
    assert not np.allclose(sampled.weights, EASE(reg=10).fit(train).weights, atol=1e-3)
    np.testing.assert_allclose(gram_matrix(x), (x.T @ x).toarray())  # the blocked Gram is X^T X


def test_ials_solves_exactly_while_it_fits_else_by_conjugate_gradient_and_says_so(capsys):
    assert scale.ials_solver(100_000, 64, 16, 3) == "exact"  # ml-100k with the class defaults: 6.6e9 of 1e10
    assert scale.ials_solver(20_000, 50, 8, 3) == "exact"  # the tiny sample
    assert capsys.readouterr().err == ""
    assert scale.ials_solver(1_000_000, 50, 8, 3) == "cg"  # the demo sample: 2.0e10
    assert scale.ials_solver(9_907_209, 50, 8, 3) == "cg"  # medium: 2.0e11
    assert scale.ials_solver(99_072_112, 50, 8, 3) == "cg"  # full: 2.0e12
    assert "ials: 99,072,112 training ratings: 3 conjugate-gradient steps" in capsys.readouterr().err


def test_ials_cg_step_converges_to_the_exact_solve():
    # k conjugate-gradient steps solve a k x k system exactly (up to rounding), from any start
    from movierec.models.topn import _Rows

    train = random_ratings(n_users=40, n_movies=30, seed=3)
    rng = np.random.default_rng(0)
    rows = _Rows.build(train.user, train.movie, train.n_users, train.n_movies)
    design = rng.normal(0, 0.5, (train.n_movies, 5))
    reg = 0.05 * (rows.counts + 0.1 * train.n_movies)
    exact = rows.solve(design, 0.1, reg, 128.0)
    start = rng.normal(0, 1, exact.shape)
    np.testing.assert_allclose(rows.solve_cg(design, 0.1, reg, start, steps=5), exact, rtol=1e-3, atol=1e-4)
    one = rows.solve_cg(design, 0.1, reg, start, steps=1)  # one step is closer, not there
    assert np.linalg.norm(exact - start) > np.linalg.norm(exact - one) > 1e-3


def test_ials_cg_on_wide_rows_converges_to_the_exact_solve():
    # movies of about 3,300 ratings each (the popular movies of the full data are wider still)
    from movierec.models.topn import _Rows

    rng = np.random.default_rng(5)
    user = rng.integers(0, 3000, 20_000)
    movie = rng.integers(0, 6, 20_000)
    rows = _Rows.build(movie, user, 6, 3000)
    design = rng.normal(0, 0.3, (3000, 4))
    reg = 0.05 * (rows.counts + 0.1 * 3000)
    start = rng.normal(0, 1, (6, 4))
    assert not np.allclose(rows.solve_cg(design, 0.1, reg, start, steps=2), start)
    exact = rows.solve(design, 0.1, reg, 128.0)
    np.testing.assert_allclose(rows.solve_cg(design, 0.1, reg, start, steps=4), exact, rtol=1e-3, atol=1e-4)


def test_ials_auto_solver_is_exact_on_small_data_and_cg_stays_close():
    from movierec.models.topn import ImplicitALS

    train = random_ratings(n_users=60, n_movies=40, seed=4)
    auto = ImplicitALS(n_factors=6, iterations=6).fit(train)
    exact = ImplicitALS(n_factors=6, iterations=6, solver="exact").fit(train)
    cg = ImplicitALS(n_factors=6, iterations=6, solver="cg").fit(train)
    assert auto.solver_used == "exact" and "solver" not in auto.hyperparameters()
    np.testing.assert_array_equal(auto.user_factors, exact.user_factors)
    assert cg.hyperparameters()["solver"] == "cg" and cg.hyperparameters()["cg_steps"] == 3
    scores = exact.user_factors @ exact.movie_factors.T
    cg_scores = cg.user_factors @ cg.movie_factors.T
    assert np.abs(cg_scores - scores).max() < 0.05 * np.abs(scores).max()
    assert not np.array_equal(cg_scores, scores)


def test_item_similarity_is_exactly_symmetric_so_scoring_may_read_rows_for_columns():
    train = random_ratings(n_users=80, n_movies=40, density=0.3, seed=9)
    model = ItemKNN(n_neighbors=5, min_neighbors=2).fit(train)
    assert np.array_equal(model.similarity, model.similarity.T)
    sampled = ItemKNN(n_neighbors=5, max_similarity_pairs=float((np.bincount(train.user) ** 2).sum()) / 3).fit(train)
    assert np.array_equal(sampled.similarity, sampled.similarity.T)


def test_item_knn_training_rmse_from_a_user_sample_above_the_budget_and_says_so(capsys, monkeypatch):
    from movierec.models import knn
    from movierec.models.base import rmse

    train = random_ratings(n_users=80, n_movies=40, density=0.3, seed=11)
    exact = ItemKNN(n_neighbors=5, min_neighbors=2).fit(train)
    predicted = exact.predict(train.user_ids[train.user], train.movie_ids[train.movie])
    assert exact.train_rmse == rmse(predicted, train.rating)  # within the budget: every rating
    assert "training RMSE" not in capsys.readouterr().err
    counts = np.bincount(train.user, minlength=train.n_users)
    budget = float((counts.astype(float) ** 2).sum()) / 4
    monkeypatch.setattr(knn, "KNN_TRAIN_RMSE_PAIRS", budget)
    sampled = ItemKNN(n_neighbors=5, min_neighbors=2).fit(train)
    keep = scale.similarity_users(counts, budget)
    rows = np.isin(train.user, keep)
    assert 0 < rows.sum() < len(train)
    assert sampled.train_rmse == rmse(predicted[rows], train.rating[rows])  # the sampled users' ratings only
    assert "item_knn: training RMSE from" in capsys.readouterr().err
    np.testing.assert_array_equal(sampled.similarity, exact.similarity)  # nothing else changes
