"""Dense (Chroma) and sparse (BM25) search over the children, fused into one ranking."""

from __future__ import annotations

from typing import Literal

from rag_app.retrieval.fusion import Ranking, reciprocal_rank_fusion, weighted_fusion
from rag_app.store import CollectionStore
from rag_app.types import ScoredChunk

Mode = Literal["rrf", "alpha", "dense", "sparse"]


class EmptyCollectionError(LookupError):
    """Nothing has been ingested into the collection yet."""


class HybridRetriever:
    """Implements `Retriever`; `mode` picks fusion, or one retriever alone."""

    def __init__(
        self,
        store: CollectionStore,
        mode: Mode = "rrf",
        candidates: int = 50,
        rrf_k: int = 60,
        alpha: float = 0.7,
    ) -> None:
        self.store = store
        self.mode = mode
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.alpha = alpha

    @classmethod
    def from_store(cls, store: CollectionStore) -> HybridRetriever:
        s = store.settings
        return cls(store, s.fusion, s.retrieve_n, s.rrf_k, s.alpha)

    def dense(self, query: str, k: int) -> Ranking:
        vector = self.store.embedder.encode_query(query)
        return self.store.vectors.search(vector, k)

    def sparse(self, query: str, k: int) -> Ranking:
        return self.store.bm25().search(query, k)

    def retrieve(self, query: str, k: int) -> list[ScoredChunk]:
        if self.store.state.stats().chunks == 0:
            raise EmptyCollectionError(
                f"collection {self.store.settings.collection!r} is empty: run `rag ingest PATH`"
            )
        n = max(k, self.candidates)
        dense = self.dense(query, n) if self.mode != "sparse" else []
        sparse = self.sparse(query, n) if self.mode != "dense" else []
        if self.mode == "rrf":
            fused = reciprocal_rank_fusion([dense, sparse], self.rrf_k)
        elif self.mode == "alpha":
            fused = weighted_fusion(dense, sparse, self.alpha)
        else:
            fused = list(dense or sparse)
        stage_scores = {"dense": dict(dense), "sparse": dict(sparse)}
        # Hydrate from the committed state: vectors of an interrupted ingest are ignored.
        top_ids = [doc_id for doc_id, _ in fused[:n]]
        chunks = self.store.state.get_many(top_ids)
        duplicates = self.store.state.duplicate_sources(top_ids)
        results: list[ScoredChunk] = []
        for doc_id, score in fused:
            chunk = chunks.get(doc_id)
            if chunk is None:
                continue
            scores = {name: s[doc_id] for name, s in stage_scores.items() if doc_id in s}
            scores["fused"] = score
            results.append(
                ScoredChunk(
                    chunk=chunk, score=score, scores=scores, also_in=duplicates.get(doc_id, [])
                )
            )
            if len(results) == k:
                break
        return results
