"""Size rules: the settings that follow the training data's size, and what they log."""

from __future__ import annotations

import numpy as np

from movierec.models import scale
from movierec.models.knn import ItemKNN, residual_similarity
from tests.unit.test_models_ranking import random_ratings


def test_bayesian_mf_keeps_the_configured_samples_while_they_fit(capsys):
    assert scale.bayesian_mf_samples(100, 10, 1_000_000) == 100
    assert scale.bayesian_mf_samples(100, 10, 4_000_000) == 100  # 4.4e8 rating-sweeps
    assert capsys.readouterr().err == ""
    assert scale.bayesian_mf_samples(100, 10, 9_907_209) == 40  # medium: 50 sweeps fit 5e8


def test_bayesian_mf_samples_shrink_with_the_data_and_say_so(capsys):
    full = 99_072_112
    chosen = scale.bayesian_mf_samples(100, 10, full)
    assert chosen == scale.BPMF_MIN_SAMPLES  # 5e8 // 99M = 5 sweeps: no samples after burn-in, floored at 10
    assert "bayesian_mf: 99,072,112 training ratings: 10 Gibbs samples instead of var bpmf_samples=100" \
        in capsys.readouterr().err
    assert scale.bayesian_mf_samples(40, 10, 10_000_000) == 40  # 50 sweeps fit 5e8
    assert scale.bayesian_mf_samples(5, 10, full) == 5           # never more than asked


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
    budget = float((counts ** 2).sum()) / 3
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
    budget = float((counts ** 2).sum()) / 2
    sampled = EASE(reg=10, max_gram_pairs=budget).fit(train)
    keep = scale.similarity_users(counts, budget)
    gram = gram_matrix(x[keep]) * (len(train) / x[keep].nnz) + 10 * np.eye(20)
    p = np.linalg.inv(gram)
    expected = -p / np.diag(p)[None, :]
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(sampled.weights, expected, rtol=1e-4, atol=1e-6)
    assert not np.allclose(sampled.weights, EASE(reg=10).fit(train).weights, atol=1e-3)
    np.testing.assert_allclose(gram_matrix(x), (x.T @ x).toarray())  # the blocked Gram is X^T X
