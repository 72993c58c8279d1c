import pytest

from rag_app.retrieval.fusion import (
    min_max,
    rank_blend,
    reciprocal_rank_fusion,
    weighted_fusion,
)


def test_rrf_matches_hand_computed_scores() -> None:
    dense = [("a", 0.9), ("b", 0.8), ("c", 0.1)]
    sparse = [("c", 7.0), ("a", 3.0)]
    fused = dict(reciprocal_rank_fusion([dense, sparse], k=60))
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["b"] == pytest.approx(1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert [i for i, _ in reciprocal_rank_fusion([dense, sparse], k=60)] == ["a", "c", "b"]


def test_rrf_ties_keep_first_seen_order() -> None:
    assert [i for i, _ in reciprocal_rank_fusion([[("x", 1.0)], [("y", 1.0)]])] == ["x", "y"]


def test_min_max_and_constant_scores() -> None:
    assert min_max([("a", 4.0), ("b", 2.0), ("c", 3.0)]) == {"a": 1.0, "b": 0.0, "c": 0.5}
    assert min_max([("a", 2.0), ("b", 2.0)]) == {"a": 1.0, "b": 1.0}
    assert min_max([]) == {}


def test_weighted_fusion_hand_computed() -> None:
    dense = [("a", 0.9), ("b", 0.5), ("c", 0.1)]  # normalised: a=1, b=0.5, c=0
    sparse = [("c", 10.0), ("b", 5.0)]  # normalised: c=1, b=0
    fused = dict(weighted_fusion(dense, sparse, alpha=0.7))
    assert fused == pytest.approx({"a": 0.7, "b": 0.35, "c": 0.3})
    only_sparse = weighted_fusion(dense, sparse, alpha=0.0)
    assert only_sparse[0][0] == "c"


def test_weighted_fusion_rejects_bad_alpha() -> None:
    with pytest.raises(ValueError, match="alpha"):
        weighted_fusion([], [], alpha=1.5)


def test_rank_blend_hand_computed() -> None:
    # positions a=1, b=0.5, c=0; scores 0, 10, 5 normalise to a=0, b=1, c=0.5
    assert rank_blend(["a", "b", "c"], [0.0, 10.0, 5.0], 0.5) == [
        ("b", 0.75),
        ("a", 0.5),
        ("c", 0.25),
    ]
    low = rank_blend(["a", "b", "c"], [0.0, 10.0, 5.0], 0.25)  # the fused order's lead holds
    assert [i for i, _ in low] == ["a", "b", "c"] and low[0][1] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="alpha"):
        rank_blend(["a"], [1.0], 1.5)
