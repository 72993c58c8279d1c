import math

import pytest

from rag_app.retrieval.metrics import (
    evaluate,
    first_occurrences,
    mrr_at_k,
    ndcg_at_k,
    per_query,
    recall_at_k,
)

QRELS = {"q1": {"d1": 2, "d3": 1}, "q2": {"d9": 1}, "q3": {"d5": 0}}
RUN = {"q1": ["d2", "d1", "d1", "d3", "d4"], "q3": ["d5"]}


def test_hand_computed_single_query() -> None:
    ranked = first_occurrences(RUN["q1"])
    assert ranked == ["d2", "d1", "d3", "d4"]
    # DCG@3 = 0/log2(2) + 2/log2(3) + 1/log2(4); IDCG@3 = 2/log2(2) + 1/log2(3)
    expected = (2 / math.log2(3) + 1 / 2) / (2 + 1 / math.log2(3))
    assert ndcg_at_k(ranked, QRELS["q1"], 3) == pytest.approx(expected)
    assert ndcg_at_k(ranked, QRELS["q1"], 3) == pytest.approx(0.669672, abs=1e-6)
    assert recall_at_k(ranked, QRELS["q1"], 2) == 0.5
    assert recall_at_k(ranked, QRELS["q1"], 3) == 1.0
    assert mrr_at_k(ranked, QRELS["q1"], 10) == 0.5
    assert mrr_at_k(ranked, QRELS["q1"], 1) == 0.0


def test_perfect_ranking_scores_one() -> None:
    assert ndcg_at_k(["d1", "d3"], QRELS["q1"], 10) == pytest.approx(1.0)


def test_means_count_judged_queries_and_missing_runs_score_zero() -> None:
    scores = evaluate(RUN, QRELS, ["ndcg@3", "recall@3", "mrr@10"])
    assert scores["ndcg@3"] == pytest.approx(0.669672 / 2, abs=1e-6)
    assert scores["recall@3"] == pytest.approx(0.5)
    assert scores["mrr@10"] == pytest.approx(0.25)


def test_per_query_scores_judged_queries_only_and_a_missing_run_as_zero() -> None:
    scores = per_query(RUN, QRELS, "ndcg@3")
    assert set(scores) == {"q1", "q2"}  # q3 has no relevant document
    assert scores["q1"] == pytest.approx(0.669672, abs=1e-6) and scores["q2"] == 0.0


def test_no_relevant_documents_gives_nan_not_a_score() -> None:
    assert math.isnan(ndcg_at_k(["d5"], {"d5": 0}, 10))
    assert math.isnan(recall_at_k(["d5"], {}, 10))
    assert math.isnan(evaluate({}, {"q": {"d": 0}}, ["ndcg@10"])["ndcg@10"])


def test_unknown_metric_names_are_refused() -> None:
    with pytest.raises(ValueError, match="precision@5"):
        evaluate(RUN, QRELS, ["precision@5"])
