import math

import numpy as np
import pytest

from eval.vector_stats import (
    abstention_threshold,
    balanced_accuracy,
    cheapest_passing,
    exact_top_k,
    k_occurrence,
    mean_pairwise_cosine,
    normalise,
    pca_2d,
    recall_against_exact,
    share_at_least,
    skewness,
    synthetic_neighbours,
    truncate,
)


def test_normalise_gives_unit_rows_and_leaves_a_zero_row_zero() -> None:
    unit = normalise(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert unit[0] == pytest.approx([0.6, 0.8])
    assert unit[1] == pytest.approx([0.0, 0.0])


def test_truncation_keeps_the_leading_dimensions_and_renormalises() -> None:
    cut = truncate(np.array([[0.6, 0.0, 0.8], [0.0, 0.6, 0.8]]), 2)
    assert cut == pytest.approx(np.array([[1.0, 0.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="3-d vectors to 4"):
        truncate(np.ones((2, 3)), 4)


def test_mean_pairwise_cosine_matches_hand_counted_pairs() -> None:
    e1, e2 = [1.0, 0.0], [0.0, 1.0]
    assert mean_pairwise_cosine(np.array([e1, e2])) == pytest.approx(0.0)
    assert mean_pairwise_cosine(np.array([e1, [2.0, 0.0]])) == pytest.approx(1.0)
    assert mean_pairwise_cosine(np.array([e1, [-1.0, 0.0]])) == pytest.approx(-1.0)
    # pairs (e1, e2) = 0, (e1, e1) = 1, (e2, e1) = 0
    assert mean_pairwise_cosine(np.array([e1, e2, e1])) == pytest.approx(1 / 3)
    assert math.isnan(mean_pairwise_cosine(np.array([e1])))


def test_mean_pairwise_cosine_equals_the_brute_force_mean() -> None:
    m = normalise(np.random.default_rng(1).standard_normal((30, 5)) + 0.5)
    sims = m @ m.T
    brute = (sims.sum() - np.trace(sims)) / (30 * 29)
    assert mean_pairwise_cosine(m) == pytest.approx(brute, abs=1e-6)


def test_exact_top_k_orders_by_cosine_and_can_exclude_each_row_itself() -> None:
    corpus = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-1.0, 0.0]])
    indices, sims = exact_top_k(corpus, np.array([[1.0, 0.1]]), 3, block=1)
    assert indices.tolist() == [[0, 1, 2]]
    assert sims[0, 0] == pytest.approx(1 / math.sqrt(1.01))
    own, _ = exact_top_k(corpus, corpus, 1, exclude_self=True, block=3)
    assert own[:, 0].tolist() == [1, 0, 1, 2]


def test_recall_against_exact_is_the_shared_share_of_the_exact_top_k() -> None:
    assert recall_against_exact([["a", "b"], ["x", "y"]], [["a", "c"], ["y", "x"]], 2) == 0.75
    # a query whose exact list is shorter than k counts against its own length
    assert recall_against_exact([["a", "b"]], [["a"]], 2) == 1.0
    with pytest.raises(ValueError):
        recall_against_exact([["a"]], [], 1)


def test_k_occurrence_counts_appearances_in_neighbour_lists() -> None:
    assert k_occurrence(np.array([[1, 2], [2, 0], [1, 0]]), 4).tolist() == [2, 2, 2, 0]


def test_skewness_is_zero_when_symmetric_and_positive_for_a_hub() -> None:
    assert skewness(np.array([1, 2, 3])) == pytest.approx(0.0)
    assert skewness(np.array([5, 5, 5])) == 0.0
    # one hub among three points never chosen: 2 / sqrt(3) by hand
    assert skewness(np.array([0, 0, 0, 3])) == pytest.approx(2 / math.sqrt(3))


def test_share_at_least_counts_ties_in() -> None:
    assert share_at_least(np.array([0.99, 0.98, 0.5, 0.1]), 0.98) == 0.5


def test_pca_2d_finds_the_line_the_points_lie_on() -> None:
    line = np.outer(np.arange(5.0), [1.0, 2.0, 2.0]) + 7.0
    xy = pca_2d(line)
    assert np.abs(xy[:, 1]).max() < 1e-9
    assert np.ptp(xy[:, 0]) == pytest.approx(4 * 3.0)  # length of the segment


def test_synthetic_neighbours_stay_near_the_real_vectors() -> None:
    base = normalise(np.random.default_rng(0).standard_normal((50, 64)))
    fake = synthetic_neighbours(base, 400, 0.5, seed=3)
    assert fake.shape == (400, 64)
    assert np.linalg.norm(fake, axis=1) == pytest.approx(np.ones(400), abs=1e-5)
    closest = (fake @ base.T).max(axis=1)
    # noise of norm ~0.5 on a unit vector: cosine ~ 1 / sqrt(1.25) = 0.89
    assert np.median(closest) == pytest.approx(1 / math.sqrt(1.25), abs=0.03)


def test_cheapest_passing_ignores_rows_below_the_target() -> None:
    rows = {
        "fast-bad": {"recall": 0.9, "cost": 1.0},
        "ok": {"recall": 0.995, "cost": 3.0},
        "slow": {"recall": 1.0, "cost": 9.0},
    }
    assert cheapest_passing(rows, 0.99, "recall", "cost") == "ok"
    assert cheapest_passing(rows, 1.01, "recall", "cost") is None


def test_abstention_threshold_lets_through_the_chosen_share() -> None:
    answerable = [0.9, 0.5, 0.8, 0.6, 0.7]
    assert abstention_threshold(answerable, 0.8) == 0.6  # 4 of 5 are >= 0.6
    assert abstention_threshold(answerable, 1.0) == 0.5
    assert abstention_threshold(answerable, 0.2) == 0.9
    with pytest.raises(ValueError, match="keep"):
        abstention_threshold(answerable, 0.0)
    with pytest.raises(ValueError, match="no answerable"):
        abstention_threshold([], 0.9)


def test_balanced_accuracy_averages_kept_and_refused() -> None:
    # kept 2 of 3 answerable, refused 1 of 2 unanswerable
    assert balanced_accuracy([0.9, 0.6, 0.3], [0.2, 0.7], 0.5) == pytest.approx((2 / 3 + 1 / 2) / 2)
