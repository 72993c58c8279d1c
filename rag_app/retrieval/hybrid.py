"""Dense (Chroma) and sparse (BM25) search over the children, fused into one ranking."""

from __future__ import annotations

import numpy as np

from rag_app.config import Fusion
from rag_app.errors import UserError
from rag_app.retrieval.fusion import Ranking, reciprocal_rank_fusion, weighted_fusion
from rag_app.store import CollectionStore
from rag_app.store.bm25 import BM25Index
from rag_app.types import Filters, ScoredChunk


class EmptyCollectionError(UserError, LookupError):
    """Nothing has been ingested into the collection yet."""


class HybridRetriever:
    """Implements `Retriever`; `mode` picks fusion, or one retriever alone."""

    def __init__(
        self,
        store: CollectionStore,
        mode: Fusion = Fusion.RRF,
        candidates: int = 50,
        rrf_k: int = 60,
        alpha: float = 0.7,
        exact_search_limit: int = 20_000,
        keyword_index: BM25Index | None = None,
    ) -> None:
        """`keyword_index`: a BM25 index to use instead of the store's (e.g. one built with
        other k1/b while tuning them)."""
        self.store = store
        self.keyword_index = keyword_index
        self.mode = mode
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.alpha = alpha
        self.exact_search_limit = exact_search_limit

    @classmethod
    def from_store(cls, store: CollectionStore, mode: Fusion | None = None) -> HybridRetriever:
        """Configured from the store's settings; `mode` overrides the configured fusion."""
        s = store.settings
        return cls(store, mode or s.fusion, s.retrieve_n, s.rrf_k, s.alpha, s.exact_search_limit)

    def dense(self, query: str, k: int, allowed: set[str] | None = None) -> Ranking:
        """Cosine top-k. Filtered: exact search over the allowed vectors when they are few,
        else an over-fetch from the index, post-filtered. (Chroma's own `where=` is avoided:
        it can fail with "Error finding id", chroma-core/chroma#7032, and cannot glob.)"""
        vector = self.store.embedder.encode_query(query)
        if allowed is None:
            return self.store.vectors.search(vector, k)
        if len(allowed) <= self.exact_search_limit:
            return self.store.vectors.search_among(vector, sorted(allowed), k)
        hits = self.store.vectors.search(vector, min(k * 10, self.store.vectors.count()))
        return [hit for hit in hits if hit[0] in allowed][:k]

    def sparse(self, query: str, k: int, allowed: set[str] | None = None) -> Ranking:
        index = self.keyword_index or self.store.bm25()
        mask = None
        if allowed is not None:
            mask = np.fromiter((i in allowed for i in index.ids), dtype=np.float32)
        return index.search(query, k, mask)

    def retrieve(self, query: str, k: int, filters: Filters | None = None) -> list[ScoredChunk]:
        if not self.store.state.has_children():
            raise EmptyCollectionError(
                f"collection {self.store.settings.collection!r} is empty: run `rag ingest PATH`"
            )
        allowed = None
        if filters is not None and not filters.is_empty():
            allowed = self.store.state.child_ids_matching(filters)
            if not allowed:
                return []
        n = max(k, self.candidates)
        dense = self.dense(query, n, allowed) if self.mode != Fusion.SPARSE else []
        sparse = self.sparse(query, n, allowed) if self.mode != Fusion.DENSE else []
        if self.mode == Fusion.RRF:
            fused = reciprocal_rank_fusion([dense, sparse], self.rrf_k)
        elif self.mode == Fusion.ALPHA:
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
