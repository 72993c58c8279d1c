"""One small protocol per role, so real backends and test fakes swap freely.

The LLM role is LangChain's ``BaseChatModel``: local llama.cpp, OpenAI-compatible endpoints and
LangChain's fake chat models all implement it already.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from rag_app.types import Chunk, Filters, ScoredChunk


@runtime_checkable
class Retriever(Protocol):
    """Finds the chunks most likely to answer a query, best first, within `filters`."""

    def retrieve(self, query: str, k: int, filters: Filters | None = None) -> list[ScoredChunk]: ...


@runtime_checkable
class Reranker(Protocol):
    """Re-scores retrieved candidates with a finer (slower) model."""

    def rerank(self, query: str, candidates: list[ScoredChunk], k: int) -> list[ScoredChunk]: ...


@runtime_checkable
class ParentStore(Protocol):
    """Looks up the parent sections that children point to."""

    def get_many(self, ids: list[str]) -> dict[str, Chunk]: ...
