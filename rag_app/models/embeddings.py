"""The bi-encoder: one sentence-transformers model per process, loaded on first use.

It subclasses LangChain's `Embeddings` so LangChain, RAGAS and Chroma adapters can use it, and
also exposes NumPy batches, which the ingest and retrieval code use to avoid list round-trips.
"""

from __future__ import annotations

import threading
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

from rag_app.models.resolve import EmbedderSpec, resolve_embedder

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from transformers import PreTrainedTokenizerBase


class Embedder(Embeddings):
    """L2-normalised embeddings, so cosine similarity is a dot product."""

    def __init__(self, spec: EmbedderSpec, name: str, batch_size: int = 32) -> None:
        self.spec = spec
        self.name = name
        self.batch_size = batch_size
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        """The model's name, as LangChain embeddings report it (RAGAS logs it as a string)."""
        return self.name

    @cached_property
    def encoder(self) -> SentenceTransformer:
        from sentence_transformers import SentenceTransformer

        with self._lock:
            return SentenceTransformer(str(self.spec.path), device="cpu", local_files_only=True)

    @cached_property
    def tokenizer(self) -> PreTrainedTokenizerBase:
        """The model's own tokenizer, loaded without the weights (chunking needs only this)."""
        if "encoder" in self.__dict__:
            return self.encoder.tokenizer
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(self.spec.path), local_files_only=True)

    @property
    def dimension(self) -> int:
        dimension = self.encoder.get_sentence_embedding_dimension()
        if dimension is None:
            raise ValueError(f"{self.name} does not report its embedding dimension")
        return int(dimension)

    def warm_up(self) -> None:
        _ = self.encoder

    def tokenize(self, text: str) -> list[int]:
        """Token ids without special tokens; chunk sizes and context budgets count these.
        (verbose=False: texts longer than the model reads are expected here.)"""
        return list(self.tokenizer.encode(text, add_special_tokens=False, verbose=False))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode([self.spec.passage_prefix + t for t in texts], show_progress)

    def encode_query(self, text: str) -> np.ndarray:
        return self._encode([self.spec.query_prefix + text], False)[0]

    def _encode(self, texts: list[str], show_progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors: Any = self.encoder.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.asarray(vectors, dtype=np.float32)

    # LangChain's Embeddings interface
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_query(text).tolist()


@lru_cache(maxsize=4)
def get_embedder(name: str, batch_size: int = 32) -> Embedder:
    """The process-wide embedder for a model name; the weights load on first encode."""
    return Embedder(resolve_embedder(name), name, batch_size)
