"""Everything stored for one collection, opened together.

Layout under RAG_HOME: ``chroma/`` (vectors), ``collections/NAME/state.sqlite`` (documents,
parents, children: the source of truth), ``collections/NAME/bm25/`` (keyword index),
``cache/embeddings.sqlite`` (vectors by text hash, shared by collections using one model).

A collection whose bi-encoder `rag tune` adapted records the tuned model and the Chroma
collection holding its vectors in its state (`TunedEmbedder`); everything that embeds or
searches goes through `CollectionStore.embedder` and `.vectors`, so ingest, the chain and
`rag eval` all follow the record.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from rag_app.config import Settings
from rag_app.errors import InvalidInput
from rag_app.models.embeddings import get_embedder
from rag_app.protocols import TextEncoder
from rag_app.store.bm25 import BM25Index
from rag_app.store.embedding_cache import EmbeddingCache
from rag_app.store.state import CollectionState, Stats
from rag_app.store.vectors import Hnsw, VectorIndex, make_client

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

__all__ = ["CollectionStore", "Stats", "TunedEmbedder"]

_TUNED_KEY = "tuned_embedder"


@dataclass(frozen=True)
class TunedEmbedder:
    model: str
    """The tuned model's folder (versioned, so cached vectors of an older tuning never match)."""
    base: str
    """The configured `embedding_model` it was trained from."""
    vectors: str
    """The Chroma collection holding its vectors."""


class CollectionStore:
    """The collection's state, vectors, keyword index and embedding cache. `embedder` replaces
    the configured bi-encoder (a test's fake); the collection records its name like any
    model's, so a collection is never searched with vectors of another encoder."""

    def __init__(self, settings: Settings, embedder: TextEncoder | None = None) -> None:
        self.settings = settings
        self._given_embedder = embedder
        self.state = CollectionState(settings.collection_dir / "state.sqlite")
        self._bm25_lock = threading.Lock()
        self._bm25: BM25Index | None = None

    @property
    def tuned_embedder(self) -> TunedEmbedder | None:
        """The collection's tuned bi-encoder, if `rag tune` made one from the configured model.
        One made from another model is an error: its vectors cannot serve this configuration."""
        raw = self.state.meta(_TUNED_KEY)
        if raw is None:
            return None
        tuned = TunedEmbedder(**json.loads(raw))
        if tuned.base != self.settings.embedding_model:
            raise InvalidInput(
                f"collection {self.settings.collection!r} is tuned from {tuned.base!r}, not the "
                f"configured {self.settings.embedding_model!r}; set embedding_model back, or "
                "ingest into a new collection to switch models"
            )
        return tuned

    @cached_property
    def embedding_model(self) -> str:
        if self._given_embedder is not None:
            return self._given_embedder.name
        tuned = self.tuned_embedder
        return tuned.model if tuned else self.settings.embedding_model

    @cached_property
    def embedder(self) -> TextEncoder:
        if self._given_embedder is not None:
            return self._given_embedder
        return get_embedder(self.embedding_model, self.settings.embedding_batch_size)

    @cached_property
    def client(self) -> ClientAPI:
        return make_client(self.settings)

    @cached_property
    def vectors(self) -> VectorIndex:
        tuned = self.tuned_embedder
        name = tuned.vectors if tuned else self.settings.collection
        return self.open_vectors(name, self.embedding_model)

    def open_vectors(self, name: str, embedding_model: str) -> VectorIndex:
        """A Chroma collection of this store's client, created with the configured HNSW."""
        return VectorIndex(self.client, name, embedding_model, Hnsw.from_settings(self.settings))

    def switch_embedder(self, tuned: TunedEmbedder) -> None:
        """Point the collection at fully written vectors of a tuned model, then drop the
        vectors it used before (readers that opened them keep working until they reopen)."""
        old = self.vectors.name
        self.state.set_meta(_TUNED_KEY, json.dumps(asdict(tuned)))
        for name in ("embedding_model", "embedder", "vectors"):
            self.__dict__.pop(name, None)
        if old != tuned.vectors:
            self.client.delete_collection(old)

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

    def __enter__(self) -> CollectionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.state.close()
        if "embedding_cache" in self.__dict__:
            self.embedding_cache.close()
