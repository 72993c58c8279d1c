"""`rag tune`: train the collection's own reranker from labelled questions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rag_app.config import Settings, get_settings


def tune_reranker(
    labels: Path, settings: Settings | None = None, split: str = "train", progress: bool = False
) -> dict[str, Any]:
    """Mine pairs with the collection's hybrid retrieval, train a cross-encoder on most of the
    questions, validate on the rest, and install it where the chain and `rag eval` look.
    Returns the model card."""
    from rag_app.models.resolve import resolve_embedder
    from rag_app.retrieval.hybrid import HybridRetriever
    from rag_app.retrieval.rerank import rerank_depth, tuned_reranker_dir
    from rag_app.store import CollectionStore
    from rag_app.tuning.cross_encoder import train_cross_encoder
    from rag_app.tuning.data import load_labelled, mine_examples, split_questions

    s = settings or get_settings()
    store = CollectionStore(s)
    try:
        questions = load_labelled(labels, store.state.documents().keys(), split)
        train_q, val_q = split_questions(questions, s.tune_validation_share, s.tune_seed)
        retriever = HybridRetriever.from_store(store)
        train = mine_examples(
            train_q,
            retriever,
            store.state,
            s.tune_candidates,
            s.tune_negatives,
            s.tune_seed,
            progress,
        )
        validation = mine_examples(
            val_q,
            retriever,
            store.state,
            rerank_depth(s, None),
            s.tune_negatives,
            s.tune_seed,
            progress,
        )
    finally:
        store.close()
    return train_cross_encoder(
        train,
        validation,
        str(resolve_embedder(s.embedding_model).path),
        tuned_reranker_dir(s.models_dir, s.collection),
        s,
        {
            "labels": str(labels),
            "split": split if labels.is_dir() else None,
            "collection": s.collection,
        },
        progress,
    )
