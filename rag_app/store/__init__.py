"""Everything stored for one collection, opened together.

Layout under RAG_HOME: ``chroma/`` (vectors), ``collections/NAME/state.sqlite`` (documents,
parents, children: the source of truth), ``collections/NAME/bm25/`` (keyword index),
``cache/embeddings.sqlite`` (vectors by text hash, shared by collections using one model).
"""

from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path

from rag_app.config import Settings
from rag_app.models.embeddings import Embedder, get_embedder
from rag_app.store.bm25 import BM25Index
from rag_app.store.embedding_cache import EmbeddingCache
from rag_app.store.state import CollectionState, Stats
from rag_app.store.vectors import Hnsw, VectorIndex, make_client

__all__ = ["CollectionStore", "Stats"]


class CollectionStore:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.state = CollectionState(settings.collection_dir / "state.sqlite")
        self._bm25_lock = threading.Lock()
        self._bm25: BM25Index | None = None

    @cached_property
    def embedder(self) -> Embedder:
        return get_embedder(self.settings.embedding_model, self.settings.embedding_batch_size)

    @cached_property
    def vectors(self) -> VectorIndex:
        return VectorIndex(
            make_client(self.settings),
            self.settings.collection,
            self.settings.embedding_model,
            Hnsw.from_settings(self.settings),
        )

    @cached_property
    def embedding_cache(self) -> EmbeddingCache:
        return EmbeddingCache(self.settings.home / "cache" / "embeddings.sqlite")

    @property
    def bm25_dir(self) -> Path:
        return self.settings.collection_dir / "bm25"

    def bm25(self) -> BM25Index:
        """The keyword index, rebuilt first if the committed state moved on since it was built."""
        with self._bm25_lock:
            generation = self.state.generation
            if self._bm25 is None:
                self._bm25 = BM25Index.load(self.bm25_dir)
            if self._bm25 is None or self._bm25.generation != generation:
                self._bm25 = self._rebuild_bm25()
            return self._bm25

    def _rebuild_bm25(self) -> BM25Index:
        index = BM25Index.build(
            self.state.children(),
            self.state.generation,
            self.settings.bm25_k1,
            self.settings.bm25_b,
        )
        index.save(self.bm25_dir)
        return index

    def store_size_bytes(self) -> int:
        roots = [self.settings.collection_dir]
        if not self.settings.chroma_host:
            roots.append(self.settings.chroma_dir)
        return sum(f.stat().st_size for root in roots for f in root.rglob("*") if f.is_file())

    def close(self) -> None:
        self.state.close()
        if "embedding_cache" in self.__dict__:
            self.embedding_cache.close()
