"""Child vectors in Chroma: embedded (PersistentClient) by default, Chroma's server on request.

We always hand Chroma the vectors ourselves. The collection still gets an embedding function,
one that refuses to run, because Chroma otherwise falls back to its default ONNX model and
tries to download it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from rag_app.config import Settings
from rag_app.errors import InvalidInput
from rag_app.types import Chunk

_LOCK_RETRIES = 6  # 0.1 s doubling: 3.1 s in all before the error is the user's

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.collection_configuration import CreateCollectionConfiguration
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import Where

_ADD_BATCH = 1000
_QUERY_VARIABLES = 8000
"""Hits (queries x results) per Chroma query: well under SQLite's 32,766 bound variables."""


class _NoEmbedding:
    """Stands in for Chroma's embedding function; calling it is a bug in rag_app."""

    def __call__(self, input: Any) -> Any:
        raise RuntimeError("rag_app passes vectors explicitly; Chroma must not embed")

    def embed_query(self, input: Any) -> Any:
        return self(input)

    @staticmethod
    def name() -> str:
        return "rag_app_external"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> _NoEmbedding:
        return _NoEmbedding()

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]


def make_client(settings: Settings) -> ClientAPI:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        return chromadb.HttpClient(
            host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
        )
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


@dataclass(frozen=True)
class Hnsw:
    """HNSW parameters: `max_neighbors` (M) and `ef_construction` shape the graph and are fixed
    when a collection is created; `ef_search` can change at any time."""

    max_neighbors: int = 16
    ef_construction: int = 100
    ef_search: int = 100

    @classmethod
    def from_settings(cls, settings: Settings) -> Hnsw:
        return cls(
            settings.hnsw_max_neighbors, settings.hnsw_ef_construction, settings.hnsw_ef_search
        )


class VectorIndex:
    """The children's vectors of one collection, searched by cosine similarity."""

    def __init__(
        self, client: ClientAPI, name: str, embedding_model: str, hnsw: Hnsw | None = None
    ) -> None:
        self.name = name
        hnsw = hnsw or Hnsw()
        configuration: CreateCollectionConfiguration = {
            "hnsw": {
                "space": "cosine",
                "max_neighbors": hnsw.max_neighbors,
                "ef_construction": hnsw.ef_construction,
                "ef_search": hnsw.ef_search,
            }
        }
        self._collection: Collection = client.get_or_create_collection(
            name=name,
            embedding_function=_NoEmbedding(),  # type: ignore[arg-type]
            configuration=configuration,
            metadata={"embedding_model": embedding_model},
        )
        self.set_ef_search(hnsw.ef_search)  # an existing collection keeps its own otherwise
        stored_model = (self._collection.metadata or {}).get("embedding_model")
        if stored_model not in (None, embedding_model):
            raise InvalidInput(
                f"collection {name!r} was embedded with {stored_model!r}, not {embedding_model!r};"
                " re-ingest into a new collection to switch models"
            )

    def set_ef_search(self, ef_search: int) -> None:
        hnsw = (self._collection.configuration or {}).get("hnsw") or {}
        if hnsw.get("ef_search") == ef_search:
            return
        # Reopening a collection right after another client of this folder wrote to it can
        # meet SQLite's busy error at once (a lock upgrade it will not wait for; seen in CI
        # under load). The other writer finishes within moments, so the change is retried.
        for attempt in range(_LOCK_RETRIES):
            try:
                self._collection.modify(configuration={"hnsw": {"ef_search": ef_search}})
                return
            except Exception as err:
                if "database is locked" not in str(err) or attempt == _LOCK_RETRIES - 1:
                    raise
                time.sleep(0.1 * 2**attempt)

    def count(self) -> int:
        return self._collection.count()

    def upsert(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        self.upsert_vectors(
            [c.id for c in chunks],
            vectors,
            [c.text for c in chunks],
            [c.metadata() for c in chunks],
        )

    def upsert_vectors(
        self,
        ids: list[str],
        vectors: np.ndarray,
        documents: list[str] | None = None,
        metadatas: list[dict[str, Any]] | None = None,
    ) -> None:
        for start in range(0, len(ids), _ADD_BATCH):
            end = start + _ADD_BATCH
            self._collection.upsert(
                ids=ids[start:end],
                embeddings=vectors[start:end],
                documents=documents[start:end] if documents else None,
                metadatas=metadatas[start:end] if metadatas else None,  # type: ignore[arg-type]
            )

    def ids_for_sources(self, sources: list[str]) -> set[str]:
        """The stored vector ids of these documents, one `get` per thousand sources (a `get`
        per document was a measurable share of ingesting many small files)."""
        ids: set[str] = set()
        for start in range(0, len(sources), _ADD_BATCH):
            where = cast("Where", {"source": {"$in": sources[start : start + _ADD_BATCH]}})
            found = self._collection.get(where=where, include=[])
            ids.update(found["ids"])
        return ids

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), _ADD_BATCH):
            self._collection.delete(ids=ids[start : start + _ADD_BATCH])

    def nearest(
        self, vectors: np.ndarray, exclude_sources: list[str], candidates: int = 8
    ) -> list[tuple[str, float, str] | None]:
        """For each vector, its closest stored child outside `exclude_sources`, as
        (id, similarity, text), or None.

        Filters in Python rather than with `where=`: Chroma's filtered query can fail with
        "Error finding id" while its metadata and HNSW segments disagree (chroma-core/chroma
        #7032, reproduced here after a killed ingest), and unfiltered queries do not.
        """
        stored = self.count()
        if len(vectors) == 0 or stored == 0:
            return [None] * len(vectors)
        excluded = set(exclude_sources)
        nearest: list[tuple[str, float, str] | None] = []
        # Chroma reads the metadata of every hit with one SQL `IN (...)`: a single query over
        # all of a large document's children (a 1,031-page manual: thousands of vectors, x
        # `candidates` hits) passed SQLite's 32,766-variable limit and ended the ingest with
        # "too many SQL variables". Queries go in batches that stay far below it.
        step = max(1, _QUERY_VARIABLES // candidates)
        for start in range(0, len(vectors), step):
            found = self._collection.query(
                query_embeddings=vectors[start : start + step],
                n_results=min(candidates, stored),
                include=["distances", "metadatas", "documents"],
            )
            for ids, distances, metadatas, documents in zip(
                found["ids"],
                found["distances"] or [],
                found["metadatas"] or [],
                found["documents"] or [],
                strict=True,
            ):
                match = next(
                    (
                        (i, 1.0 - d, doc or "")
                        for i, d, m, doc in zip(ids, distances, metadatas, documents, strict=True)
                        if (m or {}).get("source") not in excluded
                    ),
                    None,
                )
                nearest.append(match)
        return nearest

    def vectors_of(self, ids: list[str]) -> tuple[list[str], np.ndarray]:
        """The stored vectors of `ids` (those Chroma has), as (ids, matrix) in one order."""
        found_ids: list[str] = []
        blocks: list[np.ndarray] = []
        for start in range(0, len(ids), _ADD_BATCH):
            found = self._collection.get(
                ids=ids[start : start + _ADD_BATCH], include=["embeddings"]
            )
            if found["ids"]:
                found_ids.extend(found["ids"])
                blocks.append(np.asarray(found["embeddings"], dtype=np.float32))
        return found_ids, np.concatenate(blocks) if blocks else np.zeros((0, 0), dtype=np.float32)

    def search_among(self, vector: np.ndarray, ids: list[str], k: int) -> list[tuple[str, float]]:
        """Exact top-k among `ids` (brute force over their stored vectors)."""
        found, matrix = self.vectors_of(ids)
        if matrix.size == 0:
            return []
        similarities = matrix @ vector
        order = np.argsort(-similarities)[:k]
        return [(found[i], float(similarities[i])) for i in order]

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Top-k (child id, cosine similarity) by the HNSW index."""
        found = self._collection.query(
            query_embeddings=[vector], n_results=k, include=["distances"]
        )
        distances = (found["distances"] or [[]])[0]
        return [(i, 1.0 - d) for i, d in zip(found["ids"][0], distances, strict=True)]
