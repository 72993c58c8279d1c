"""rag_app: grounded, cited answers over your own documents, offline.

    from rag_app import build_chain, RagRetriever
    answer = build_chain().invoke({"question": "How do I install it?"})
    docs = RagRetriever(k=2).invoke("How do I install it?")  # a LangChain retriever

Heavy libraries load on first use, so importing this package (and `rag --help`) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rag_app.offline import close_network_paths

close_network_paths()

if TYPE_CHECKING:
    from rag_app.chain.rag import build_chain
    from rag_app.chain.retriever import RagRetriever
    from rag_app.config import Settings, get_settings
    from rag_app.types import Answer, Chunk, Passage, ScoredChunk

__all__ = [
    "Answer",
    "Chunk",
    "Passage",
    "RagRetriever",
    "ScoredChunk",
    "Settings",
    "build_chain",
    "get_settings",
]

_EXPORTS = {
    "build_chain": "rag_app.chain.rag",
    "RagRetriever": "rag_app.chain.retriever",
    "Settings": "rag_app.config",
    "get_settings": "rag_app.config",
    "Answer": "rag_app.types",
    "Chunk": "rag_app.types",
    "Passage": "rag_app.types",
    "ScoredChunk": "rag_app.types",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rag_app' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module), name)
