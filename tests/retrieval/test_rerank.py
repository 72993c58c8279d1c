import logging
from pathlib import Path

import pytest

from rag_app.config import Settings
from rag_app.retrieval.rerank import (
    CrossEncoderReranker,
    PassThroughReranker,
    load_reranker,
    rerank_threshold,
    tuned_reranker_dir,
)
from rag_app.types import Chunk, ScoredChunk


def _candidates(*texts: str) -> list[ScoredChunk]:
    return [
        ScoredChunk(
            chunk=Chunk(id=f"c{i}", text=t, source="/d.md"),
            score=1.0 / (i + 1),
            scores={"fused": 1.0 / (i + 1)},
        )
        for i, t in enumerate(texts)
    ]


class KeywordModel:
    """Stands in for a CrossEncoder: scores a pair by shared words, counts its calls."""

    def __init__(self) -> None:
        self.pairs_scored = 0

    def predict(self, pairs: list[tuple[str, str]], **kwargs: object) -> list[float]:
        self.pairs_scored += len(pairs)
        return [float(len(set(q.split()) & set(p.split()))) for q, p in pairs]


def test_rerank_orders_by_cross_encoder_score_and_caches() -> None:
    reranker = CrossEncoderReranker("unused")
    model = KeywordModel()
    reranker.__dict__["model"] = model
    candidates = _candidates("nothing here", "shed closed mondays", "the shed")
    top = reranker.rerank("when is the shed closed", candidates, k=2)
    assert [h.chunk.id for h in top] == ["c1", "c2"]
    assert top[0].scores["rerank"] == 2.0 and top[0].scores["fused"] == 0.5
    reranker.rerank("when is the shed closed", candidates, k=2)
    assert model.pairs_scored == 3 and reranker.cache.hits == 3


def test_pass_through_keeps_order_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    reranker = PassThroughReranker("no model")
    with caplog.at_level(logging.WARNING):
        first = reranker.rerank("q", _candidates("a", "b", "c"), k=2)
        reranker.rerank("q", _candidates("a"), k=1)
    assert [h.chunk.id for h in first] == ["c0", "c1"]
    assert [r.message for r in caplog.records].count(
        "reranking is off: no model; using the fused order"
    ) == 1


def test_rrf_combine_keeps_a_strong_fused_first_above_a_weak_rerank_win() -> None:
    reranker = CrossEncoderReranker("unused", combine="rrf", rrf_k=1)
    reranker.__dict__["model"] = KeywordModel()
    candidates = _candidates("shed", "nothing", "when shed closed")
    top = reranker.rerank("when is the shed closed", candidates, k=3)
    # fused ranks c0 c1 c2; cross-encoder ranks c2 c0 c1; RRF(k=1): c0 = 1/2 + 1/3, c2 = 1/4 + 1/2
    assert [h.chunk.id for h in top] == ["c0", "c2", "c1"]
    assert top[1].scores["rerank"] == 3.0 and "reranked" in top[1].scores


def test_rerank_depth_comes_from_config_then_the_tuned_card_then_retrieve_n() -> None:
    from rag_app.retrieval.rerank import rerank_depth

    tuned = CrossEncoderReranker("unused")
    tuned.depth = 20
    assert rerank_depth(Settings(rerank_depth=7), tuned) == 7
    assert rerank_depth(Settings(), tuned) == 20
    assert rerank_depth(Settings(retrieve_n=40), PassThroughReranker("x")) == 40


def test_abstention_threshold_comes_from_config_then_the_tuned_card_then_zero() -> None:
    tuned = CrossEncoderReranker("unused")
    tuned.min_score = -3.5
    assert rerank_threshold(Settings(min_rerank_score=1.0), tuned) == 1.0
    assert rerank_threshold(Settings(), tuned) == -3.5
    assert rerank_threshold(Settings(), PassThroughReranker("x")) == 0.0
    assert rerank_threshold(Settings(), None) == 0.0


def test_unavailable_models_fail_over_to_pass_through(
    tmp_path: Path, no_network: list[object]
) -> None:
    settings = Settings(models_dir=tmp_path, rerank_max_length=128, rerank_batch_size=8)
    none = load_reranker(settings)
    assert isinstance(none, PassThroughReranker) and "none tuned" in none.reason
    hub = load_reranker(
        settings.model_copy(update={"reranker_model": "cross-encoder/ms-marco-MiniLM-L6-v2"})
    )
    assert isinstance(hub, PassThroughReranker)
    assert "cross-encoder/ms-marco-MiniLM-L6-v2" in hub.reason
    assert no_network == []  # offline mode refused it without trying the network


@pytest.mark.integration
def test_a_tuned_cross_encoder_folder_is_picked_up(tmp_path: Path) -> None:
    from sentence_transformers import CrossEncoder

    from rag_app.models.resolve import resolve_embedder

    base = resolve_embedder("all-MiniLM-L6-v2").path
    folder = tuned_reranker_dir(tmp_path, "default")
    CrossEncoder(str(base), num_labels=1, max_length=64).save(str(folder))
    reranker = load_reranker(
        Settings(models_dir=tmp_path, rerank_max_length=64, rerank_batch_size=8)
    )
    assert isinstance(reranker, CrossEncoderReranker) and reranker.model_name == str(folder)
    top = reranker.rerank("tool shed hours", _candidates("shed opens at 8", "compost bins"), k=2)
    assert len(top) == 2 and all("rerank" in h.scores for h in top)


def test_blend_combine_weighs_the_cross_encoder_against_fused_positions() -> None:
    candidates = _candidates("shed", "nothing", "when shed closed")
    query = "when is the shed closed"  # cross-encoder scores: c0 1, c1 0, c2 3
    orders = {}
    for weight in ("0.25", "0.75"):
        reranker = CrossEncoderReranker("unused", combine=f"blend-{weight}")
        reranker.__dict__["model"] = KeywordModel()
        orders[weight] = [h.chunk.id for h in reranker.rerank(query, candidates, k=3)]
    # 0.25: c0 = .25 * 1/3 + .75 = .83, c2 = .25; 0.75: c2 = .75 beats c0 = .75 * 1/3 + .25
    assert orders == {"0.25": ["c0", "c1", "c2"], "0.75": ["c2", "c0", "c1"]}
    with pytest.raises(ValueError, match="'blend-2' is not"):
        CrossEncoderReranker("unused", combine="blend-2")
