"""The one retrieval path: search (the query and any expansions) → fuse → rerank → confidence
gate with one keyword-only retry → parent passages within the token budget.

The chat, `rag eval`, `make bench` and the page's debug view all run this object. Each used to
rebuild part of it (eval reranked without the gate or the retry, the score report re-derived the
gate), so a published number described a path the chat did not take. What only evaluation needs
is a parameter here: `keep` returns a deeper ranking (nDCG@100) whose head is exactly what the
chat reads.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from rag_app.config import Fusion, Settings
from rag_app.protocols import ParentStore, Reranker, Retriever, Vocabulary
from rag_app.retrieval.context import CountTokens, build_passages
from rag_app.retrieval.coverage import key_terms, missing_terms, question_words, word_coverage
from rag_app.retrieval.fusion import reciprocal_rank_fusion
from rag_app.retrieval.rerank import rerank_depth, rerank_threshold
from rag_app.text import WORD, stems
from rag_app.types import Filters, Passage, ScoredChunk

if TYPE_CHECKING:
    from rag_app.store import CollectionStore
    from rag_app.store.state import CollectionState


class Gate(BaseModel):
    """Whether retrieval found something worth asking the LLM about, and on which evidence.

    Two questions, both answered from what the chat reads (the first `top_k` hits):
    - is it about the question? The cross-encoder's score when it ranked the hits; else the
      dense cosine or, for short vague questions a cosine scores low, the share of the
      question's words the passages hold (either one suffices);
    - does it mention what the question names? Every key term (name, model, date, figure) must
      occur in a passage, its title, heading or file name; one that occurs nowhere is named in
      `missing` and the chat says the documents do not cover it.
    """

    model_config = ConfigDict(frozen=True)

    signal: Literal["rerank", "dense", "words", "none"] = Field(
        description="The score that decided: the cross-encoder's when it scored the hits, "
        "else the dense cosine, or word coverage when it passed where the cosine did not; none "
        "for a keyword-only ranking without either (the LLM judges)."
    )
    best: float = Field(description="The best hit's value of that score (NaN for none).")
    threshold: float = Field(description="The value it had to reach (NaN for none).")
    coverage: float = Field(
        math.nan,
        description="The idf-weighted share of the question's words found in what was read "
        "(NaN: not measured, no vocabulary given).",
    )
    missing: list[str] = Field(
        default_factory=list, description="Key terms of the question found in nothing read."
    )
    confident: bool = Field(description="The score passed and no key term is missing.")


class GateThresholds(BaseModel):
    """The gate's thresholds for one collection, and how they were set."""

    model_config = ConfigDict(frozen=True)

    min_dense_similarity: float = Field(description="The dense cosine the best hit must reach.")
    min_word_coverage: float | None = Field(
        description="Word coverage that lets a question through below that cosine (None: "
        "coverage is not a signal)."
    )

    @classmethod
    def configured(cls, settings: Settings) -> GateThresholds:
        """The thresholds a collection has until `rag calibrate` fits its own."""
        return cls(
            min_dense_similarity=settings.min_dense_similarity,
            min_word_coverage=settings.min_word_coverage,
        )

    def describe(self) -> str:
        words = "off" if self.min_word_coverage is None else f"{self.min_word_coverage:.2f}"
        return f"dense >= {self.min_dense_similarity:.3f} or words >= {words}"


class Retrieval(BaseModel):
    """What the pipeline found for one question."""

    model_config = ConfigDict(frozen=True)

    query: str
    read: int = Field(
        description="How many of the hits the chat reads (top_k): the gate and "
        "the passages look at these."
    )
    hits: list[ScoredChunk] = Field(
        description="Best first; `score` is the one that ordered them, `scores` every stage's."
    )
    gate: Gate
    retried: bool = Field(description="The keyword-only retry ran (the first gate failed).")
    passages: list[Passage] = Field(
        default_factory=list, description="The first `top_k` hits' parents, numbered."
    )
    timings: dict[str, float] = Field(
        default_factory=dict,
        description="Seconds: retrieve (search and fusion, every attempt), rerank, context.",
    )

    @property
    def abstain(self) -> bool:
        return not self.gate.confident or not self.passages

    def best(self, stage: str) -> float:
        """The best `stage` score among the hits the chat reads (NaN: no hit has one)."""
        values = [h.scores[stage] for h in self.hits[: self.read] if stage in h.scores]
        return max(values) if values else math.nan


COMMON_SHARE = 0.02
"""A key term held by this share of a collection's children is a topic word there (`_asked`):
on ARAGOG's papers "AI", "NLP", "GPU" and "English"; the names the questions are about
("GLM-130B", "CC-NEWS") are held by a handful."""

CALIBRATION_KEY = "gate_calibration"
"""Where `rag calibrate` stores a collection's gate calibration (JSON, with `thresholds`)."""


def stored_thresholds(state: CollectionState) -> GateThresholds | None:
    stored = state.meta(CALIBRATION_KEY)
    return GateThresholds.model_validate(json.loads(stored)["thresholds"]) if stored else None


def fuse_rankings(rankings: Sequence[list[ScoredChunk]], rrf_k: int) -> list[ScoredChunk]:
    """One ranking per query (original + expansions), RRF-fused; a single one is unchanged.
    A chunk keeps the stage scores of its first appearance."""
    if len(rankings) == 1:
        return rankings[0]
    first: dict[str, ScoredChunk] = {}
    for ranking in rankings:
        for hit in ranking:
            first.setdefault(hit.chunk.id, hit)
    fused = reciprocal_rank_fusion(
        [[(h.chunk.id, h.score) for h in ranking] for ranking in rankings], rrf_k
    )
    return [
        first[i].model_copy(update={"score": s, "scores": {**first[i].scores, "expanded": s}})
        for i, s in fused
    ]


@dataclass(frozen=True)
class Context:
    """Parent expansion: what the LLM reads of the hits, counted in its own tokens."""

    parents: ParentStore | None
    budget_tokens: int
    count_tokens: CountTokens
    passage_tokens: int | None = None
    """The most one passage may take of the budget (None: all of it)."""


@dataclass(frozen=True)
class _Asked:
    """The question as the gate reads it."""

    terms: list[str]
    """Its key terms, less those the collection holds everywhere (`COMMON_SHARE`)."""
    words: set[str]
    """Its stemmed content words (empty without a vocabulary)."""
    frequencies: dict[str, int]
    """The collection's document frequency of each of those words and terms' pieces."""


@dataclass(frozen=True)
class RetrievalPipeline:
    """Runs the stages in order; every part is given, so tests and evaluations swap any.

    `depth` candidates go to the cross-encoder (None: `top_k`); the rest of a deeper ranking
    follows them in fused order, so recall beyond the depth is the fused ranking's. The gate
    reads the first `top_k` hits, whatever `keep` asks for: the same hits the chat reads.
    """

    retriever: Retriever
    top_k: int
    rrf_k: int = 60
    reranker: Reranker | None = None
    depth: int | None = None
    min_rerank_score: float = 0.0
    min_dense_similarity: float = 0.0
    min_word_coverage: float | None = None
    vocabulary: Vocabulary | None = None
    """Weights the question's words by rarity for word coverage (None: coverage unmeasured)."""
    keyword_retriever: Retriever | None = None
    """Retried alone when the cross-encoder finds nothing convincing (None: no retry)."""
    context: Context | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        retriever: Retriever,
        reranker: Reranker | None = None,
        keyword_retriever: Retriever | None = None,
        context: Context | None = None,
        depth: int | None = None,
        store: CollectionStore | None = None,
    ) -> RetrievalPipeline:
        """The configured policy over given parts: rerank depth and threshold as configured,
        else from the tuned model's card (`depth` overrides both, e.g. one tuned by `rag eval`);
        with a `store`, word coverage weighted by its vocabulary and the gate's thresholds as
        calibrated for it (`rag calibrate`), else as configured; no retry when the configured
        fusion is keyword-only already."""
        gate = (store and stored_thresholds(store.state)) or GateThresholds.configured(settings)
        return cls(
            retriever=retriever,
            top_k=settings.top_k,
            rrf_k=settings.rrf_k,
            reranker=reranker,
            depth=depth or rerank_depth(settings, reranker),
            min_rerank_score=rerank_threshold(settings, reranker),
            min_dense_similarity=gate.min_dense_similarity,
            min_word_coverage=gate.min_word_coverage,
            vocabulary=store.bm25() if store is not None else None,
            keyword_retriever=keyword_retriever if settings.fusion != Fusion.SPARSE else None,
            context=context,
        )

    def run(
        self,
        query: str,
        expansions: Sequence[str] = (),
        filters: Filters | None = None,
        keep: int | None = None,
    ) -> Retrieval:
        """`keep`: how many hits to return (never fewer than `top_k`); passages are built from
        the first `top_k` only."""
        keep = max(keep or 0, self.top_k)
        timings: dict[str, float] = {"retrieve": 0.0, "rerank": 0.0}
        asked = self._asked(query)
        hits = self._search(self.retriever, query, expansions, filters, keep, timings)
        gate, passages = self._assess(asked, hits, timings)
        retried = False
        if not gate.confident and gate.signal == "rerank" and self.keyword_retriever:
            hits = self._search(self.keyword_retriever, query, expansions, filters, keep, timings)
            gate, passages = self._assess(asked, hits, timings)
            retried = True
        elif gate.missing:
            # A named thing the fused ranking missed may still be in the collection: search
            # for the missing terms beside the question, fused, and keep that ranking if it
            # leaves fewer of them missing.
            more = [*expansions, " ".join(gate.missing)]
            again = self._search(self.retriever, query, more, filters, keep, timings)
            second, second_passages = self._assess(asked, again, timings)
            retried = True
            if len(second.missing) < len(gate.missing):
                hits, gate, passages = again, second, second_passages
        return Retrieval(
            query=query,
            read=self.top_k,
            hits=hits,
            gate=gate,
            retried=retried,
            passages=passages,
            timings=timings,
        )

    def _asked(self, query: str) -> _Asked:
        """What the gate looks for of the question in any ranking: computed once per question,
        however many rankings the retries assess."""
        terms = key_terms(query)
        if self.vocabulary is None:
            return _Asked(terms, set(), {})
        words = question_words(query)
        pieces = {t: stems(WORD.findall(t)) for t in terms}
        wanted = words | {p for v in pieces.values() for p in v}
        frequencies = self.vocabulary.document_frequencies(sorted(wanted))
        # A key term the collection holds everywhere ("AI" across AI papers) is a topic word
        # there, not a name: passages can be on the question without it.
        limit = COMMON_SHARE * self.vocabulary.documents
        rare = [t for t in terms if min(frequencies[p] for p in pieces[t]) < limit]
        return _Asked(rare, words, frequencies)

    def _assess(
        self, asked: _Asked, hits: list[ScoredChunk], timings: dict[str, float]
    ) -> tuple[Gate, list[Passage]]:
        """The gate over what the chat reads, and the passages it reads (when a context is
        given; else the hits' own text is what is checked)."""
        read = hits[: self.top_k]
        passages: list[Passage] = []
        if self.context is not None:
            started = time.perf_counter()
            c = self.context
            passages = build_passages(
                read, c.parents, c.budget_tokens, c.count_tokens, c.passage_tokens
            )
            timings["context"] = timings.get("context", 0.0) + time.perf_counter() - started
            texts = [t for p in passages for t in (p.text, p.heading, p.source)]
        else:
            texts = [t for h in read for t in (h.chunk.search_text(), h.chunk.source)]
        coverage = math.nan
        if self.vocabulary is not None:
            documents = self.vocabulary.documents
            coverage = word_coverage(asked.words, texts, asked.frequencies, documents)
        gate = self._score_gate(read, coverage)
        missing = missing_terms(asked.terms, texts)
        confident = gate.confident and not missing
        update = {"coverage": coverage, "missing": missing, "confident": confident}
        return gate.model_copy(update=update), passages

    def _score_gate(self, read: list[ScoredChunk], coverage: float) -> Gate:
        if not read:
            return Gate(signal="none", best=math.nan, threshold=math.nan, confident=False)
        rerank = [h.scores["rerank"] for h in read if "rerank" in h.scores]
        if rerank:
            best, least = max(rerank), self.min_rerank_score
            return Gate(signal="rerank", best=best, threshold=least, confident=best >= least)
        dense = [h.scores["dense"] for h in read if "dense" in h.scores]
        if not dense:
            return Gate(signal="none", best=math.nan, threshold=math.nan, confident=True)
        best = max(dense)
        words = self.min_word_coverage
        if best < self.min_dense_similarity and words is not None and coverage >= words:
            return Gate(signal="words", best=coverage, threshold=words, confident=True)
        return Gate(
            signal="dense",
            best=best,
            threshold=self.min_dense_similarity,
            confident=best >= self.min_dense_similarity,
        )

    def _search(
        self,
        retriever: Retriever,
        query: str,
        expansions: Sequence[str],
        filters: Filters | None,
        keep: int,
        timings: dict[str, float],
    ) -> list[ScoredChunk]:
        depth = self.top_k if self.reranker is None else (self.depth or self.top_k)
        fetch = max(depth, keep)
        started = time.perf_counter()
        rankings = [retriever.retrieve(q, fetch, filters) for q in [query, *expansions]]
        candidates = fuse_rankings(rankings, self.rrf_k)[:fetch]
        timings["retrieve"] += time.perf_counter() - started
        if self.reranker is None:
            return candidates[:keep]
        started = time.perf_counter()
        head = self.reranker.rerank(query, candidates[:depth], depth)
        timings["rerank"] += time.perf_counter() - started
        return (head + candidates[depth:])[:keep]
