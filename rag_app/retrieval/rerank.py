"""Cross-encoder reranking of the fused candidates.

No pretrained cross-encoder can be installed offline, so the model is whatever config names: a
local sentence-transformers CrossEncoder folder, a hub name (for users with internet), or the
one `rag tune` trained for the collection. When none can be loaded, the stage says so once in
the log and passes the fused order through: quality silently dropping is worse than a warning.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rag_app.config import Settings
from rag_app.models.cards import Combine, RerankerUse, read_card
from rag_app.retrieval.fusion import rank_blend, reciprocal_rank_fusion
from rag_app.types import ScoredChunk

log = logging.getLogger(__name__)


class ScoreCache:
    """Scores by (query, chunk id); ids are content hashes, so a hit is always still valid."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._scores: OrderedDict[tuple[str, str], float] = OrderedDict()
        self.hits = 0

    def get(self, query: str, chunk_id: str) -> float | None:
        score = self._scores.get((query, chunk_id))
        if score is not None:
            self._scores.move_to_end((query, chunk_id))
            self.hits += 1
        return score

    def put(self, query: str, chunk_id: str, score: float) -> None:
        self._scores[(query, chunk_id)] = score
        if len(self._scores) > self.size:
            self._scores.popitem(last=False)


Backend = Literal["auto", "torch", "onnx-int8"]


def cross_encoder_logits(model: Any, pairs: list[tuple[str, str]], batch_size: int) -> np.ndarray:
    """A CrossEncoder's (or `OnnxCrossEncoder`'s) raw scores for (query, passage) pairs."""
    from rag_app.models.onnx_reranker import OnnxCrossEncoder

    if isinstance(model, OnnxCrossEncoder):  # logits already, and no torch import
        return model.predict(pairs, batch_size)
    from torch.nn import Identity

    return np.asarray(
        model.predict(
            pairs,
            batch_size=batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            activation_fn=Identity(),
        ),
        dtype=np.float32,
    )


class CrossEncoderReranker:
    """Implements `Reranker` with a sentence-transformers `CrossEncoder`.

    `combine` is "replace" (the cross-encoder's order wins), "rrf" (its order RRF-fused with
    the incoming fused order) or "blend-W" (its scores blended at weight W with the fused
    positions, `rank_blend`); a model `rag tune` trained says which won on its validation
    questions in its card, and that is the default for it."""

    def __init__(
        self,
        model: str,
        max_length: int = 192,
        batch_size: int = 32,
        combine: str | Combine | None = None,
        rrf_k: int = 60,
        backend: Backend = "auto",
    ) -> None:
        self.model_name = model
        self.max_length = max_length
        self.batch_size = batch_size
        use = read_card(Path(model), RerankerUse) or RerankerUse()
        self.combine = Combine.parse(combine) if combine is not None else use.combine
        self.depth: int | None = use.rerank_depth
        self.min_score: float | None = use.min_score
        self.backend = use.backend if backend == "auto" else backend
        self.rrf_k = rrf_k
        self.cache = ScoreCache()
        self._lock = threading.Lock()

    @cached_property
    def model(self) -> Any:
        """A sentence-transformers CrossEncoder, or its int8 ONNX copy (same `predict`)."""
        with self._lock:
            if self.backend == "onnx-int8":
                from rag_app.models.onnx_reranker import ONNX_INT8, OnnxCrossEncoder

                if not (Path(self.model_name) / ONNX_INT8).is_file():
                    raise OSError(f"no int8 ONNX export at {Path(self.model_name) / ONNX_INT8}")
                onnx = OnnxCrossEncoder(Path(self.model_name), self.max_length)
                _ = onnx.session
                return onnx
            from sentence_transformers import CrossEncoder

            return CrossEncoder(self.model_name, max_length=self.max_length, device="cpu")

    def warm_up(self) -> None:
        _ = self.model

    def logits(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """Raw scores. `CrossEncoder.predict` would put a one-logit model's scores through a
        sigmoid, and `min_rerank_score` is on the logit scale."""
        return cross_encoder_logits(self.model, pairs, self.batch_size)

    def score(self, query: str, candidates: list[ScoredChunk]) -> list[float]:
        scores = [self.cache.get(query, c.chunk.id) for c in candidates]
        todo = [i for i, s in enumerate(scores) if s is None]
        if todo:
            fresh = self.logits([(query, candidates[i].chunk.search_text()) for i in todo])
            for i, value in zip(todo, fresh, strict=True):
                scores[i] = float(value)
                self.cache.put(query, candidates[i].chunk.id, float(value))
        return [float(s) for s in scores if s is not None]

    def rerank(self, query: str, candidates: list[ScoredChunk], k: int) -> list[ScoredChunk]:
        if not candidates:
            return []
        scores = self.score(query, candidates)
        ranked = sorted(zip(candidates, scores, strict=True), key=lambda p: p[1], reverse=True)
        reranked = [
            ScoredChunk(chunk=c.chunk, score=s, scores={**c.scores, "rerank": s}, also_in=c.also_in)
            for c, s in ranked
        ]
        if self.combine.kind == "replace":
            return reranked[:k]
        by_id = {c.chunk.id: c for c in reranked}
        if self.combine.weight is not None:
            fused = rank_blend([c.chunk.id for c in candidates], scores, self.combine.weight)
        else:
            fused = reciprocal_rank_fusion(
                [[(c.chunk.id, 0.0) for c in candidates], [(c.chunk.id, 0.0) for c in reranked]],
                self.rrf_k,
            )
        return [
            by_id[i].model_copy(update={"score": s, "scores": {**by_id[i].scores, "reranked": s}})
            for i, s in fused[:k]
        ]


class PassThroughReranker:
    """Used when no cross-encoder is available: keeps the fused order, and says why once."""

    depth: int | None = None
    min_score: float | None = None

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self._warned = False

    def rerank(self, query: str, candidates: list[ScoredChunk], k: int) -> list[ScoredChunk]:
        if not self._warned:
            log.warning("reranking is off: %s; using the fused order", self.reason)
            self._warned = True
        return candidates[:k]


def rerank_depth_source(
    settings: Settings, reranker: object | None, tuned: int | None = None
) -> tuple[int, str]:
    """Candidates to rerank, and why: as configured, else as the tuned model's validation
    chose, else as an evaluation tuned it (`tuned`), else everything retrieved."""
    return next(
        (value, source)
        for value, source in (
            (settings.rerank_depth, "configured"),
            (getattr(reranker, "depth", None), "the tuned model's validation questions"),
            (tuned, "tuned on the evaluation's tuning split"),
            (settings.retrieve_n, "all retrieved candidates"),
        )
        if value
    )


def rerank_depth(settings: Settings, reranker: object | None) -> int:
    return rerank_depth_source(settings, reranker)[0]


def rerank_threshold(settings: Settings, reranker: object | None) -> float:
    """The best rerank score below which the chain retries, then abstains: as configured,
    else as the tuned model's validation set it, else 0 (even odds for a binary-loss model)."""
    if settings.min_rerank_score is not None:
        return settings.min_rerank_score
    card_value = getattr(reranker, "min_score", None)
    return float(card_value) if card_value is not None else 0.0


def tuned_reranker_dir(models_dir: Path, collection: str) -> Path:
    """Where `rag tune` saves the cross-encoder it trains for a collection."""
    return models_dir / "rerankers" / collection


def load_reranker(settings: Settings) -> CrossEncoderReranker | PassThroughReranker:
    """The configured cross-encoder, else the collection's tuned one, else a pass-through."""
    s = settings
    candidates = [s.reranker_model] if s.reranker_model else []
    tuned = tuned_reranker_dir(s.models_dir, s.collection)
    if tuned.is_dir():
        candidates.append(str(tuned))
    if not candidates:
        return PassThroughReranker(
            f"no cross-encoder configured (reranker_model) and none tuned at {tuned}"
        )
    failures = []
    for candidate in candidates:
        try:
            reranker = CrossEncoderReranker(
                candidate,
                s.rerank_max_length,
                s.rerank_batch_size,
                rrf_k=s.rrf_k,
                backend=s.rerank_backend,
            )
            reranker.warm_up()
        except (OSError, ValueError) as err:  # offline hub name, missing or broken folder/card
            failures.append(f"{candidate}: {' '.join(str(err).split())[:160]}")
            continue
        log.info("reranking with cross-encoder %s", candidate)
        return reranker
    return PassThroughReranker("could not load " + "; ".join(failures))


def reranker_in_use(settings: Settings) -> str:
    """What the chain would rerank with, said without loading it (`rag status`, chat page)."""
    if not settings.rerank:
        return "off (rerank = false)"
    if settings.reranker_model:
        return f"{settings.reranker_model} (configured)"
    tuned = tuned_reranker_dir(settings.models_dir, settings.collection)
    use = read_card(tuned, RerankerUse)
    if use is None:
        return "none: fused order kept (train one with `rag tune`)"
    depth = use.rerank_depth or settings.retrieve_n
    return f"{tuned} (tuned by `rag tune`: {use.combine}, depth {depth})"
