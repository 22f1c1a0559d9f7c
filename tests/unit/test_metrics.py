"""Metrics against small examples computed by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from movierec.metrics import (
    catalog_coverage,
    hit_rate_at_k,
    long_tail_share,
    mae,
    map_at_k,
    ndcg_at_k,
    precision_at_k,
    ranking_metrics,
    ranking_metrics_per_user,
    recall_at_k,
    rmse,
    split_per_user,
    tail_movies,
)

K = 3
# Top-3 lists (plus one rank-4 row that must be ignored at k = 3).
RECS = pd.DataFrame(
    [
        (1, 1, 10),
        (1, 2, 20),
        (1, 3, 30),
        (2, 1, 10),
        (2, 2, 50),
        (2, 3, 60),
        (3, 1, 70),
        (3, 2, 80),
        (3, 3, 90),
        (3, 4, 11),  # 11 is relevant for user 3 but at rank 4
        (4, 1, 10),
        (4, 2, 100),
        (4, 3, 12),  # user 4 has no held-out movies
    ],
    columns=["user_id", "rank", "movie_id"],
)
RELEVANT = pd.DataFrame(
    [
        (1, 20),
        (1, 40),
        (2, 10),
        (2, 60),
        (2, 70),
        (2, 80),
        (2, 90),
        (2, 90),  # duplicate row counts once: |R_2| = 5
        (3, 11),
        (5, 10),  # user 5 got no recommendations
    ],
    columns=["user_id", "movie_id"],
)
# Users averaged over: 1, 2, 3, 5 (those with relevant movies); user 4 is excluded.
#
# user 1: list 10, 20, 30; R = {20, 40}; hit at rank 2; h = 1, m = min(2, 3) = 2
#   precision 1/3, recall 1/2, DCG = 1/log2(3) = 0.63093, IDCG = 1 + 0.63093 = 1.63093,
#   nDCG = 0.38685, AP = (1/2) / 2 = 0.25 (either normalization, |R| = m = 2), hit 1
# user 2: list 10, 50, 60; R = {10, 60, 70, 80, 90}; hits at ranks 1 and 3; h = 2, m = 3
#   precision 2/3, recall 2/5, DCG = 1/log2(2) + 1/log2(4) = 1.5,
#   IDCG = 1 + 0.63093 + 0.5 = 2.13093, nDCG = 0.70392,
#   AP = (1/1 + 2/3) / 3 = 0.55556; with |R|: (1/1 + 2/3) / 5 = 0.33333; hit 1
# user 3: list 70, 80, 90 (11 at rank 4 is cut); R = {11}: everything 0
# user 5: no list; R = {10}: everything 0
L3 = 1 / math.log2(3)
NDCG_1 = L3 / (1 + L3)
NDCG_2 = 1.5 / (1 + L3 + 0.5)


def test_precision_is_hits_over_k_averaged_over_users_with_relevant_movies():
    # (1/3 + 2/3 + 0 + 0) / 4 = 0.25
    assert precision_at_k(RECS, RELEVANT, K) == pytest.approx(0.25)


def test_recall_is_hits_over_relevant_count():
    # (1/2 + 2/5 + 0 + 0) / 4 = 0.225
    assert recall_at_k(RECS, RELEVANT, K) == pytest.approx(0.225)


def test_ndcg_uses_log2_discount_and_ideal_over_min_relevant_k():
    # (0.38685 + 0.70392 + 0 + 0) / 4 = 0.27269
    assert ndcg_at_k(RECS, RELEVANT, K) == pytest.approx((NDCG_1 + NDCG_2) / 4)
    assert ndcg_at_k(RECS, RELEVANT, K) == pytest.approx(0.272693, abs=1e-6)


def test_map_normalized_by_min_relevant_k_or_by_relevant_count():
    # min: (0.25 + 0.55556) / 4 = 0.20139;  |R|: (0.25 + 0.33333) / 4 = 0.14583
    assert map_at_k(RECS, RELEVANT, K) == pytest.approx((0.25 + (1 + 2 / 3) / 3) / 4)
    assert map_at_k(RECS, RELEVANT, K, normalize="relevant") == pytest.approx((0.25 + (1 + 2 / 3) / 5) / 4)


def test_hit_rate_is_share_of_users_with_a_hit():
    # users 1 and 2 of 4
    assert hit_rate_at_k(RECS, RELEVANT, K) == pytest.approx(0.5)


def test_per_user_values_and_the_excluded_user():
    per_user = ranking_metrics_per_user(RECS, RELEVANT, K).set_index("user_id")
    assert list(per_user.index) == [1, 2, 3, 5]
    assert per_user.relevant_count.tolist() == [2, 5, 1, 1]
    assert per_user.hit_count.tolist() == [1, 2, 0, 0]
    np.testing.assert_allclose(per_user.ndcg, [NDCG_1, NDCG_2, 0, 0])
    np.testing.assert_allclose(per_user["map"], [0.25, (1 + 2 / 3) / 3, 0, 0])


def test_cut_off_k_and_restricting_users():
    # k = 4 brings in user 3's hit at rank 4: h_3 = 1, |R_3| = 1, precision 1/4, recall 1
    per_user = ranking_metrics_per_user(RECS, RELEVANT, 4).set_index("user_id")
    assert per_user.loc[3, "recall"] == 1.0 and per_user.loc[3, "precision"] == 0.25
    # nDCG of user 3 at k = 4: (1/log2(5)) / 1
    assert per_user.loc[3, "ndcg"] == pytest.approx(1 / math.log2(5))
    # only users 1 and 2: precision (1/3 + 2/3) / 2 = 0.5
    assert precision_at_k(RECS, RELEVANT, K, users=[1, 2]) == pytest.approx(0.5)


def test_inputs_as_arrow_table_or_mapping_give_the_same_numbers():
    expected = ranking_metrics(RECS, RELEVANT, K)
    as_arrow = ranking_metrics(pa.Table.from_pandas(RECS), pa.Table.from_pandas(RELEVANT), K)
    as_dict = ranking_metrics({c: RECS[c].to_numpy() for c in RECS}, {c: RELEVANT[c].to_numpy() for c in RELEVANT}, K)
    assert as_arrow == pytest.approx(expected) and as_dict == pytest.approx(expected)
    assert expected["users"] == 4


def test_no_relevant_movies_gives_zero_and_no_users():
    empty = pd.DataFrame({"user_id": np.array([], dtype=np.int64), "movie_id": np.array([], dtype=np.int64)})
    result = ranking_metrics(RECS, empty, K)
    assert result["users"] == 0 and result["ndcg"] == 0.0


def test_perfect_lists_score_one():
    recs = pd.DataFrame({"user_id": [1, 1, 2], "rank": [1, 2, 1], "movie_id": [5, 6, 7]})
    relevant = pd.DataFrame({"user_id": [1, 1, 2], "movie_id": [6, 5, 7]})
    result = ranking_metrics(recs, relevant, 2)
    assert result["ndcg"] == pytest.approx(1.0) and result["map"] == pytest.approx(1.0)
    assert result["recall"] == 1.0 and result["precision"] == pytest.approx((1 + 0.5) / 2)


def test_catalog_coverage():
    # rank <= 3 recommends {10, 20, 30, 50, 60, 70, 80, 90, 100, 12}; 11 is only at rank 4.
    # Catalog of 12 movies holding all of those: 10 / 12.
    catalog = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 11, 12]
    assert catalog_coverage(RECS, catalog, k=K) == pytest.approx(10 / 12)
    # without a cut-off, 11 counts too: 11 / 12
    assert catalog_coverage(RECS, catalog) == pytest.approx(11 / 12)


def test_long_tail_share():
    # 12 rows with rank <= 3; tail {30, 60, 90, 100} appears in 4 of them: 1/3
    assert long_tail_share(RECS, [30, 60, 90, 100], k=K) == pytest.approx(1 / 3)


def test_tail_movies_by_count_then_id():
    # counts: 1 -> 3, 2 -> 2, 3 -> 1, 4 -> 1, 5 -> 1; head = ceil(0.2 * 5) = 1 movie: {1}
    ratings_movie_id = [1, 1, 1, 2, 2, 3, 4, 5]
    assert tail_movies(ratings_movie_id, 0.2).tolist() == [2, 3, 4, 5]
    # head of ceil(0.6 * 5) = 3 movies: 1, 2, then 3 wins the tie of counts 1 by the smaller id
    assert tail_movies(ratings_movie_id, 0.6).tolist() == [4, 5]


def test_rmse_and_mae():
    # errors -1, 0, 2: RMSE = sqrt((1 + 0 + 4) / 3) = 1.29099, MAE = (1 + 0 + 2) / 3 = 1
    assert rmse([3, 4, 5], [4, 4, 3]) == pytest.approx(math.sqrt(5 / 3))
    assert mae([3, 4, 5], [4, 4, 3]) == pytest.approx(1.0)


def test_split_per_user_keeps_floor_three_quarters_of_each_user():
    rng = np.random.default_rng(0)
    user = np.repeat([7, 3, 9], [20, 4, 7])[rng.permutation(31)]
    mask = split_per_user(user, 0.75, seed=42)
    counts = {u: int(mask[user == u].sum()) for u in (7, 3, 9)}
    assert counts == {7: 15, 3: 3, 9: 5}  # floor(15.0), floor(3.0), floor(5.25)
    np.testing.assert_array_equal(mask, split_per_user(user, 0.75, seed=42))
    assert not np.array_equal(mask, split_per_user(user, 0.75, seed=1))
