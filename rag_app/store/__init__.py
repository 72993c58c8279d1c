"""Everything stored for one collection, opened together.

Layout under RAG_HOME: ``chroma/`` (vectors), ``collections/NAME/state.sqlite`` (documents,
parents, children: the source of truth), ``collections/NAME/bm25/`` (keyword index),
``cache/embeddings.sqlite`` (vectors by text hash, shared by collections using one model).

A collection whose bi-encoder `rag tune` adapted records the tuned model and the Chroma
collection holding its vectors in its state (`TunedEmbedder`); everything that embeds or
searches goes through `CollectionStore.embedder` and `.vectors`, so ingest, the chain and
`rag eval` all follow the record.

The store is the collection's only writer. Order of writes for a batch of new document versions,
chosen so that a kill at any point leaves the previous index usable and the next run finishes the
job: (1) upsert the new child vectors (content-derived ids, so repeats are harmless), (2) swap the
documents' rows in SQLite in one transaction, noting the old versions' vectors as stale — from
here on retrieval sees the new versions, and ignores vectors not committed there — (3) delete the
stale vectors. `recover()` does (3) for whatever a killed run left noted. The BM25 index is
rebuilt from SQLite when a reader finds it behind.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag_app.config import Settings
from rag_app.errors import InvalidInput
from rag_app.models.embeddings import get_embedder
from rag_app.protocols import TextEncoder
from rag_app.store.bm25 import BM25Index
from rag_app.store.embedding_cache import EmbeddingCache
from rag_app.store.state import CollectionState, DocumentRecord, DocumentRows, Stats
from rag_app.store.vectors import Hnsw, VectorIndex, make_client
from rag_app.types import Chunk

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

__all__ = ["CollectionStore", "DocumentRecord", "DocumentRows", "Stats", "TunedEmbedder"]

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

    def switch_embedder(
        self, tuned: TunedEmbedder, encoder: TextEncoder, progress: bool = False
    ) -> None:
        """Embed every searchable child with `encoder` into the Chroma collection
        `tuned.vectors`, point the collection at it, then drop the vectors it used before
        (readers that opened them keep working until they reopen).

        Children committed by an ingest while this runs are picked up by another pass; one that
        commits between the last pass and the switch is not (run `rag tune` while nothing
        ingests into the collection)."""
        index = self.open_vectors(tuned.vectors, tuned.model)
        done: set[str] = set()
        while True:
            generation = self.state.generation
            children = self.state.children()
            todo = [c for c in children if c.id not in done]
            vectors, _ = self.embedding_cache.encode(
                encoder, [c.search_text() for c in todo], progress
            )
            index.upsert(todo, vectors)
            done |= {c.id for c in todo}
            gone = sorted(done - {c.id for c in children})
            index.delete(gone)
            done -= set(gone)
            if self.state.generation == generation:
                break
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

    # --- reading what ingest compares against ----------------------------------------------
    def documents(self) -> dict[str, DocumentRecord]:
        return self.state.documents()

    def encode(self, texts: list[str], progress: bool = False) -> tuple[np.ndarray, int]:
        """Vectors of `texts` by the collection's encoder, through the shared cache, and how
        many had to be computed."""
        return self.embedding_cache.encode(self.embedder, texts, progress)

    def stored_matches(
        self, texts: list[str], vectors: np.ndarray, exclude_sources: list[str]
    ) -> tuple[list[tuple[str, float, str] | None], dict[str, str]]:
        """For near-duplicate detection: each vector's closest searchable child of other
        documents, and the children of other documents whose text is exactly one of `texts`."""
        return (
            self.vectors.nearest(vectors, exclude_sources),
            self.state.children_with_text(texts, exclude_sources),
        )

    # --- writing: steps (1)-(3) of the module docstring -----------------------------------
    def replace_documents(self, documents: list[DocumentRows], vectors: np.ndarray) -> None:
        """Commit new versions of whole documents. `vectors` are their children's, in order;
        duplicates (`duplicate_of` set) get no vector of their own. One upsert, one transaction
        and one delete per batch instead of one of each per document."""
        children = [c for d in documents for c in d.children]
        if len(children) != len(vectors):
            raise ValueError(f"{len(children)} children but {len(vectors)} vectors")
        stale = self.vectors.ids_for_sources([d.record.source for d in documents])
        searchable = [i for i, c in enumerate(children) if c.duplicate_of is None]
        self.vectors.upsert([children[i] for i in searchable], vectors[searchable])
        stale -= {children[i].id for i in searchable}
        self.state.replace_documents(documents, stale)
        self.recover()

    def remove_documents(self, sources: list[str]) -> None:
        """Rows first, then vectors: retrieval ignores vectors whose rows are gone."""
        if sources:
            self.state.remove_documents(sources, self.vectors.ids_for_sources(sources))
            self.recover()

    def recover(self) -> None:
        """Delete the vectors the committed state noted as stale; a run killed before this
        leaves them noted, and the next write (or run) deletes them first."""
        stale = self.state.stale_vectors()
        if stale:
            self.vectors.delete(stale)
            self.state.forget_stale(stale)

    def promote_orphans(self) -> None:
        """Duplicates whose canonical went away (changed or removed document, or a killed
        run): the first of each group becomes searchable again, the rest point to it."""
        groups: dict[str, list[Chunk]] = {}
        for chunk in self.state.orphaned_duplicates():
            groups.setdefault(chunk.duplicate_of or "", []).append(chunk)
        for group in groups.values():
            heir, rest = group[0], group[1:]
            vectors, _ = self.encode([heir.search_text()])
            self.vectors.upsert([heir.model_copy(update={"duplicate_of": None})], vectors)
            self.state.set_duplicate_of([heir.id], None)
            if rest:
                self.state.set_duplicate_of([c.id for c in rest], heir.id)

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
