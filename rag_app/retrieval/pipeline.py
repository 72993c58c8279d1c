"""The one retrieval path: search (the query and any expansions) → fuse → rerank → confidence
gate with one keyword-only retry → parent passages within the token budget.

The chat, `rag eval`, `make bench` and the page's debug view all run this object. Each used to
rebuild part of it (eval reranked without the gate or the retry, the score report re-derived the
gate), so a published number described a path the chat did not take. What only evaluation needs
is a parameter here: `keep` returns a deeper ranking (nDCG@100) whose head is exactly what the
chat reads.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rag_app.config import Fusion, Settings
from rag_app.protocols import ParentStore, Reranker, Retriever
from rag_app.retrieval.context import CountTokens, build_passages
from rag_app.retrieval.fusion import reciprocal_rank_fusion
from rag_app.retrieval.rerank import rerank_depth, rerank_threshold
from rag_app.types import Filters, Passage, ScoredChunk


class Gate(BaseModel):
    """Whether retrieval found something worth asking the LLM about, and on which evidence."""

    model_config = ConfigDict(frozen=True)

    signal: Literal["rerank", "dense", "none"] = Field(
        description="The score tested: the cross-encoder's when it scored the hits, else the "
        "dense cosine; none for a keyword-only ranking without either (the LLM judges)."
    )
    best: float = Field(description="The best hit's value of that score (NaN for none).")
    threshold: float = Field(description="The value it had to reach (NaN for none).")
    confident: bool


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
    ) -> RetrievalPipeline:
        """The configured policy over given parts: rerank depth and threshold as configured,
        else from the tuned model's card (`depth` overrides both, e.g. one tuned by `rag eval`);
        no retry when the configured fusion is keyword-only already."""
        return cls(
            retriever=retriever,
            top_k=settings.top_k,
            rrf_k=settings.rrf_k,
            reranker=reranker,
            depth=depth or rerank_depth(settings, reranker),
            min_rerank_score=rerank_threshold(settings, reranker),
            min_dense_similarity=settings.min_dense_similarity,
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
        hits = self._search(self.retriever, query, expansions, filters, keep, timings)
        gate = self._gate(hits)
        retried = False
        if not gate.confident and gate.signal == "rerank" and self.keyword_retriever:
            hits = self._search(self.keyword_retriever, query, expansions, filters, keep, timings)
            gate, retried = self._gate(hits), True
        passages: list[Passage] = []
        if self.context is not None:
            started = time.perf_counter()
            c = self.context
            passages = build_passages(
                hits[: self.top_k], c.parents, c.budget_tokens, c.count_tokens
            )
            timings["context"] = time.perf_counter() - started
        return Retrieval(
            query=query,
            read=self.top_k,
            hits=hits,
            gate=gate,
            retried=retried,
            passages=passages,
            timings=timings,
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

    def _gate(self, hits: list[ScoredChunk]) -> Gate:
        read = hits[: self.top_k]
        if not read:
            return Gate(signal="none", best=math.nan, threshold=math.nan, confident=False)
        for signal, threshold in (
            ("rerank", self.min_rerank_score),
            ("dense", self.min_dense_similarity),
        ):
            values = [h.scores[signal] for h in read if signal in h.scores]
            if values:
                best = max(values)
                return Gate(
                    signal=signal, best=best, threshold=threshold, confident=best >= threshold
                )
        return Gate(signal="none", best=math.nan, threshold=math.nan, confident=True)
