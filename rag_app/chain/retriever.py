"""The chat's retrieval path as a LangChain retriever, for anyone composing their own chain:

    from rag_app import RagRetriever
    docs = RagRetriever(k=2).invoke("How do I install it?")

`BaseRetriever` gives callbacks, tracing, async and batching; this class implements its one
hook over `RetrievalPipeline`, so what it returns is exactly what the chat would read: hybrid
search, rerank, the confidence gate and its keyword-only retry. Each `Document` is a child
chunk, its metadata the chunk's place (source, title, section, page, parent) and its scores.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from rag_app.chain.rag import Components
from rag_app.config import Settings, get_settings
from rag_app.retrieval.pipeline import Retrieval
from rag_app.types import Filters, ScoredChunk


def to_document(hit: ScoredChunk, found: Retrieval) -> Document:
    chunk = hit.chunk
    return Document(
        id=chunk.id,
        page_content=chunk.text,
        metadata={
            **chunk.metadata(),
            "score": hit.score,
            "scores": dict(hit.scores),
            "also_in": list(hit.also_in),
            # Whether the chat would have answered from these, and on which evidence.
            "confident": found.gate.confident,
            "gate": found.gate.signal,
            "missing": list(found.gate.missing),
        },
    )


class RagRetriever(BaseRetriever):
    """Retrieves from a collection as the chat does. Every field defaults to the settings."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    k: int | None = Field(None, ge=1, description="Documents returned (default: top_k).")
    settings: Settings = Field(
        default_factory=get_settings, description="Collection, models and retrieval policy."
    )
    filters: Filters | None = Field(
        None, description="Restrict every search (source glob, section prefix, doc type)."
    )

    @cached_property
    def _parts(self) -> Components:
        return Components(self.settings)

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        **kwargs: Any,
    ) -> list[Document]:
        """`k` and `filters` may also be given per call (`invoke(query, k=1)`)."""
        k = kwargs.get("k") or self.k or self.settings.top_k
        filters = kwargs.get("filters") or self.filters
        if isinstance(filters, dict):
            filters = Filters.model_validate(filters)
        parts = self._parts if k == self.settings.top_k else self._parts.with_settings(top_k=k)
        found = parts.pipeline.run(query, filters=filters)
        return [to_document(hit, found) for hit in found.hits[:k]]
