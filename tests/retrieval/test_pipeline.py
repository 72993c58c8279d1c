"""The one retrieval path, over in-memory parts: no store, no model."""

import math
from dataclasses import replace

import pytest

from rag_app.config import Settings
from rag_app.retrieval.pipeline import Context, RetrievalPipeline, fuse_rankings
from rag_app.types import Chunk, Filters, ScoredChunk
from tests.fakes import ScriptedReranker


def _hit(i: str, dense: float | None = 0.5, parent: str | None = None) -> ScoredChunk:
    scores = {} if dense is None else {"dense": dense}
    chunk = Chunk(id=i, text=f"text {i}", source=f"/{i}.md", parent_id=parent)
    return ScoredChunk(chunk=chunk, score=1.0, scores=scores)


class ListRetriever:
    """Returns its ranking cut to k, and records each call."""

    def __init__(self, *hits: ScoredChunk) -> None:
        self.hits = list(hits)
        self.calls: list[tuple[str, int, Filters | None]] = []

    def retrieve(self, query: str, k: int, filters: Filters | None = None) -> list[ScoredChunk]:
        self.calls.append((query, k, filters))
        return self.hits[:k]


def _ids(hits: list[ScoredChunk]) -> list[str]:
    return [h.chunk.id for h in hits]


def test_fuse_rankings_combines_queries_by_rank() -> None:
    fused = fuse_rankings([[_hit("a"), _hit("b")], [_hit("b"), _hit("c")]], rrf_k=60)
    assert _ids(fused) == ["b", "a", "c"]
    assert fused[0].scores["dense"] == 0.5 and "expanded" in fused[0].scores
    single = [_hit("x")]
    assert fuse_rankings([single], 60) == single


def test_without_a_reranker_the_fused_order_is_cut_to_top_k_and_gated_on_dense() -> None:
    retriever = ListRetriever(_hit("a", 0.2), _hit("b", 0.3), _hit("c", 0.9))
    pipeline = RetrievalPipeline(retriever, top_k=2, min_dense_similarity=0.25)
    found = pipeline.run("q")
    assert _ids(found.hits) == ["a", "b"] and retriever.calls == [("q", 2, None)]
    # The gate reads the hits the chat reads: c's 0.9 is beyond top_k.
    assert found.gate.signal == "dense" and found.gate.best == 0.3 and found.gate.confident
    refused = RetrievalPipeline(retriever, top_k=1, min_dense_similarity=0.25).run("q")
    assert not refused.gate.confident and refused.abstain


def test_a_deeper_ranking_keeps_the_reranked_head_then_the_fused_rest() -> None:
    retriever = ListRetriever(*(_hit(i) for i in "abcdef"))
    reranker = ScriptedReranker({"text c": 3.0, "text b": 2.0})
    pipeline = RetrievalPipeline(retriever, top_k=2, reranker=reranker, depth=3)
    chat = pipeline.run("q")
    deep = pipeline.run("q", keep=6)
    assert _ids(chat.hits) == ["c", "b"]
    assert _ids(deep.hits) == ["c", "b", "a", "d", "e", "f"]  # a: reranked -5, still third
    assert deep.gate == chat.gate  # the gate reads the first top_k either way
    assert retriever.calls[-1][1] == 6 and retriever.calls[0][1] == 3


def test_an_unconvincing_rerank_retries_keyword_only_once() -> None:
    hybrid = ListRetriever(_hit("a"), _hit("b"))
    keyword = ListRetriever(_hit("k", dense=None))
    reranker = ScriptedReranker({"text k": 1.0})  # a and b get -5
    pipeline = RetrievalPipeline(
        hybrid, top_k=2, reranker=reranker, depth=2, keyword_retriever=keyword
    )
    found = pipeline.run("q", filters=Filters(source="*.md"))
    assert found.retried and _ids(found.hits) == ["k"]
    assert found.gate.signal == "rerank" and found.gate.best == 1.0 and found.gate.confident
    assert keyword.calls == [("q", 2, Filters(source="*.md"))]  # filters reach the retry
    assert math.isnan(found.best("dense")) and found.best("rerank") == 1.0

    still_bad = RetrievalPipeline(
        hybrid, top_k=2, reranker=ScriptedReranker({}), keyword_retriever=keyword
    ).run("q")
    assert still_bad.retried and not still_bad.gate.confident and still_bad.abstain
    assert len(keyword.calls) == 2  # once per question, never a second retry


def test_no_retry_without_cross_encoder_scores() -> None:
    keyword = ListRetriever(_hit("k"))
    pipeline = RetrievalPipeline(
        ListRetriever(_hit("a", 0.1)), top_k=1, min_dense_similarity=0.5, keyword_retriever=keyword
    )
    found = pipeline.run("q")
    assert not found.gate.confident and not found.retried and keyword.calls == []


def test_a_keyword_only_ranking_without_scores_leaves_judgement_to_the_llm() -> None:
    found = RetrievalPipeline(ListRetriever(_hit("a", dense=None)), top_k=1).run("q")
    assert found.gate.signal == "none" and found.gate.confident
    empty = RetrievalPipeline(ListRetriever(), top_k=1).run("q")
    assert not empty.gate.confident and empty.hits == []


def test_expansions_are_searched_and_fused() -> None:
    retriever = ListRetriever(_hit("a"), _hit("b"))
    RetrievalPipeline(retriever, top_k=2).run("q", expansions=["hyde answer"])
    assert [call[0] for call in retriever.calls] == ["q", "hyde answer"]


class Parents:
    def get_many(self, ids: list[str]) -> dict[str, Chunk]:
        return {i: Chunk(id=i, text=f"section {i} " * 5, source=f"/{i}.md") for i in ids}


def test_passages_come_from_the_first_top_k_hits_parents_within_the_budget() -> None:
    retriever = ListRetriever(
        _hit("a", parent="P1"), _hit("b", parent="P1"), _hit("c", parent="P2")
    )
    context = Context(Parents(), budget_tokens=1000, count_tokens=lambda t: len(t.split()))
    found = RetrievalPipeline(retriever, top_k=2, context=context).run("q", keep=3)
    assert [p.text.split()[1] for p in found.passages] == ["P1"]  # a and b share a parent
    assert set(found.timings) == {"retrieve", "rerank", "context"}
    assert found.timings["rerank"] == 0.0 and found.timings["retrieve"] > 0.0
    assert not found.abstain


def test_from_settings_takes_depth_and_threshold_from_the_tuned_card() -> None:
    class Tuned(ScriptedReranker):
        depth = 7
        min_score = -2.0

    settings = Settings(top_k=3, min_dense_similarity=0.4)
    keyword = ListRetriever()
    pipeline = RetrievalPipeline.from_settings(
        settings, ListRetriever(), Tuned({}), keyword_retriever=keyword
    )
    assert (pipeline.top_k, pipeline.depth, pipeline.min_rerank_score) == (3, 7, -2.0)
    assert pipeline.min_dense_similarity == 0.4 and pipeline.keyword_retriever is keyword
    assert RetrievalPipeline.from_settings(settings, ListRetriever(), Tuned({}), depth=9).depth == 9
    sparse = Settings(fusion="sparse")
    assert (
        RetrievalPipeline.from_settings(sparse, ListRetriever(), None, keyword).keyword_retriever
        is None
    )


@pytest.mark.parametrize("keep", [None, 1])
def test_keep_never_cuts_below_what_the_chat_reads(keep: int | None) -> None:
    found = RetrievalPipeline(ListRetriever(*(_hit(i) for i in "abc")), top_k=2).run("q", keep=keep)
    assert found.read == 2 and _ids(found.hits) == ["a", "b"]


def _text_hit(i: str, text: str, dense: float = 0.5) -> ScoredChunk:
    chunk = Chunk(id=i, text=text, source=f"/docs/{i}.md")
    return ScoredChunk(chunk=chunk, score=1.0, scores={"dense": dense})


class Vocabulary:
    """Document frequencies given outright: `documents` children, `common` words in all."""

    def __init__(self, documents: int, frequencies: dict[str, int]) -> None:
        self.documents = documents
        self.frequencies = frequencies

    def document_frequencies(self, stems: list[str]) -> dict[str, int]:
        return {s: self.frequencies.get(s, 0) for s in stems}


class ByQuery:
    """A retriever whose ranking depends on the query: `rankings[query]`, else `default`."""

    def __init__(self, default: list[ScoredChunk], **rankings: list[ScoredChunk]) -> None:
        self.default, self.rankings = default, rankings
        self.queries: list[str] = []

    def retrieve(self, query: str, k: int, filters: Filters | None = None) -> list[ScoredChunk]:
        self.queries.append(query)
        return self.rankings.get(query, self.default)[:k]


def test_a_key_term_in_nothing_read_is_named_and_refused_after_one_search_for_it() -> None:
    intel = _text_hit("intel", "Intel revenue grew in Q3 2023.", dense=0.8)
    retriever = ByQuery([intel])
    found = RetrievalPipeline(retriever, top_k=1, min_dense_similarity=0.3).run(
        "What was Apple's revenue in Q3 2023?"
    )
    assert found.gate.missing == ["Apple"] and not found.gate.confident and found.abstain
    assert found.retried and retriever.queries[-1] == "Apple"  # searched for, not found

    apple = _text_hit("apple", "Apple revenue in Q3 2023 was 81 billion.", dense=0.6)
    found = RetrievalPipeline(ByQuery([intel], Apple=[apple]), top_k=2).run(
        "What was Apple's revenue in Q3 2023?"
    )
    assert found.gate.confident and found.gate.missing == [] and "apple" in _ids(found.hits)


def test_the_search_for_missing_terms_is_kept_only_when_it_misses_fewer() -> None:
    first = _text_hit("a", "BERT and RoBERTa results", dense=0.7)
    worse = _text_hit("b", "nothing relevant", dense=0.9)
    found = RetrievalPipeline(ByQuery([first], SQuAD=[worse]), top_k=1).run(
        "How do BERT and RoBERTa do on SQuAD?"
    )
    assert found.retried and _ids(found.hits) == ["a"] and found.gate.missing == ["SQuAD"]


def test_a_key_term_the_collection_holds_everywhere_is_a_topic_word_not_a_name() -> None:
    hit = _text_hit("a", "Training large language models on many GPUs.", dense=0.6)
    vocabulary = Vocabulary(100, {"ai": 40, "glm": 1, "130b": 1})
    pipeline = RetrievalPipeline(ByQuery([hit]), top_k=1, vocabulary=vocabulary)
    assert pipeline.run("How is AI research helped?").gate.missing == []
    assert pipeline.run("How was GLM-130B trained?").gate.missing == ["GLM-130B"]


def test_word_coverage_lets_a_short_vague_question_through_below_the_cosine() -> None:
    hit = _text_hit("a", "To install it, run make demo.", dense=0.2)
    vocabulary = Vocabulary(50, {"instal": 3, "sourdough": 0})
    pipeline = RetrievalPipeline(
        ByQuery([hit]),
        top_k=1,
        min_dense_similarity=0.34,
        min_word_coverage=0.75,
        vocabulary=vocabulary,
    )
    vague = pipeline.run("How do I install it?")
    assert vague.gate.confident and vague.gate.signal == "words" and vague.gate.coverage == 1.0
    off_topic = pipeline.run("How do I install a sourdough oven?")
    assert not off_topic.gate.confident and off_topic.gate.signal == "dense"
    assert off_topic.gate.coverage < 0.75
    no_words = replace(pipeline, min_word_coverage=None).run("How do I install it?")
    assert not no_words.gate.confident  # coverage measured but not a signal
