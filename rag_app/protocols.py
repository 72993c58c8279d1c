"""One small protocol per role, so real backends and test fakes swap freely.

The LLM role is LangChain's ``BaseChatModel``: local llama.cpp, OpenAI-compatible endpoints and
LangChain's fake chat models all implement it already.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from langchain_core.messages import BaseMessage

from rag_app.types import Chunk, Filters, ScoredChunk


@runtime_checkable
class Retriever(Protocol):
    """Finds the chunks most likely to answer a query, best first, within `filters`."""

    def retrieve(self, query: str, k: int, filters: Filters | None = None) -> list[ScoredChunk]: ...


@runtime_checkable
class TextEncoder(Protocol):
    """Embeds passages and queries (L2-normalised rows) and counts its own tokens; the store,
    ingest and search use nothing else of a bi-encoder, so a test can pass a fake."""

    name: str

    @property
    def dimension(self) -> int: ...

    def tokenize(self, text: str) -> list[int]: ...

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...

    def warm_up(self) -> None: ...


@runtime_checkable
class Reranker(Protocol):
    """Re-scores retrieved candidates with a finer (slower) model."""

    def rerank(self, query: str, candidates: list[ScoredChunk], k: int) -> list[ScoredChunk]: ...


@runtime_checkable
class ParentStore(Protocol):
    """Looks up the parent sections that children point to."""

    def get_many(self, ids: list[str]) -> dict[str, Chunk]: ...


@runtime_checkable
class Vocabulary(Protocol):
    """How common each word is in a collection (the BM25 index knows)."""

    @property
    def documents(self) -> int: ...

    def document_frequencies(self, stems: list[str]) -> dict[str, int]: ...


@runtime_checkable
class ChoiceModel(Protocol):
    """A chat model that can say how likely its reply is to begin with each of a few words,
    not only which it would write (the local llama.cpp model; an endpoint cannot)."""

    def choice_probabilities(
        self, messages: list[BaseMessage], choices: Sequence[str]
    ) -> list[float]: ...
