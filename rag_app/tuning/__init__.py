"""`rag tune`: adapt a collection's bi-encoder and train its reranker from labelled questions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from rag_app.config import Settings, get_settings
from rag_app.models.cards import EmbedderCard, RerankerCard

Target = Literal["embedder", "reranker"]
Stage = Literal[
    "generating questions", "tuning the bi-encoder", "training the reranker", "calibrating"
]
_TARGET_STAGES: dict[Target, Stage] = {
    "embedder": "tuning the bi-encoder",
    "reranker": "training the reranker",
}


def tune(
    labels: Path | Sequence[Path],
    settings: Settings | None = None,
    split: str = "train",
    targets: tuple[Target, ...] = ("embedder", "reranker"),
    progress: bool = False,
    gate_questions: Sequence[str] | None = None,
    on_stage: Callable[[Stage], None] | None = None,
) -> dict[str, RerankerCard | EmbedderCard]:
    """Tune each target in order and return their cards by target.

    The bi-encoder goes first: the reranker is trained on the candidates the (re-embedded)
    collection retrieves, as it will see them in use. Each target mines its examples with the
    collection's own hybrid retrieval, trains on most of the questions and validates on the
    rest (the same split for both). Several label files (real and generated questions) are
    used together. The gate is recalibrated afterwards, on `gate_questions` when given (the
    collection's own questions), and always when a new bi-encoder was installed: its dense
    threshold is a cosine of the old model's."""
    from rag_app.models.resolve import resolve_embedder
    from rag_app.retrieval.hybrid import HybridRetriever
    from rag_app.retrieval.rerank import rerank_depth, tuned_reranker_dir
    from rag_app.store import CollectionStore
    from rag_app.tuning.cross_encoder import train_cross_encoder
    from rag_app.tuning.data import load_labelled, mine_examples, split_questions
    from rag_app.tuning.embedder import reembed, train_embedder, tuned_embedder_root

    s = settings or get_settings()
    base = resolve_embedder(s.embedding_model)
    files = [labels] if isinstance(labels, Path) else list(labels)
    data = {
        "labels": ", ".join(map(str, files)),
        "split": split if any(f.is_dir() for f in files) else None,
        "collection": s.collection,
    }
    cards: dict[str, RerankerCard | EmbedderCard] = {}
    with CollectionStore(s) as store:
        sources = store.state.documents().keys()
        questions = [q for f in files for q in load_labelled(f, sources, split)]
        train_q, val_q = split_questions(questions, s.tune_validation_share, s.tune_seed)
        for target in targets:
            if on_stage is not None:
                on_stage(_TARGET_STAGES[target])
            retriever = HybridRetriever.from_store(store)
            val_depth = rerank_depth(s, None) if target == "reranker" else s.tune_candidates
            train, validation = (
                mine_examples(
                    qs, retriever, store.state, depth, s.tune_negatives, s.tune_seed, progress
                )
                for qs, depth in ((train_q, s.tune_candidates), (val_q, val_depth))
            )
            card: RerankerCard | EmbedderCard
            if target == "embedder":
                version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
                folder = tuned_embedder_root(s.models_dir, s.collection) / version
                card = train_embedder(train, validation, base, folder, s, data, progress)
                if card.installed:
                    reembed(store, folder, progress)
            else:
                card = train_cross_encoder(
                    train,
                    validation,
                    str(base.path),
                    tuned_reranker_dir(s.models_dir, s.collection),
                    s,
                    data,
                    progress,
                )
            cards[target] = card
    embedder = cards.get("embedder")
    if gate_questions is not None or (embedder is not None and embedder.installed):
        from rag_app.tuning.abstention import calibrate_collection

        if on_stage is not None:
            on_stage("calibrating")
        calibrate_collection(s, gate_questions)
    return cards


def tune_from_documents(
    settings: Settings,
    count: int = 200,
    budget_minutes: float | None = None,
    on_stage: Callable[[Stage, str], None] | None = None,
) -> dict[str, RerankerCard | EmbedderCard]:
    """Tune a collection nobody labelled: generate questions from its own documents (going on
    from an earlier, interrupted set), tune both models from them, then recalibrate the gate
    with them. The set is kept in the collection's folder for `rag eval answers`.
    `budget_minutes` caps the generation and each model's training."""
    from rag_app.tuning.questions import (
        generate_questions,
        kept_questions_path,
        read_question_texts,
    )

    def say(stage: Stage, detail: str = "") -> None:
        if on_stage is not None:
            on_stage(stage, detail)

    out = kept_questions_path(settings)
    say("generating questions", f"0 of {count} kept")
    report = generate_questions(
        settings,
        out,
        count,
        budget_minutes,
        listener=lambda kept: say("generating questions", f"{kept} of {count} kept"),
    )
    say("generating questions", report.summary())
    if budget_minutes:
        settings = settings.updated(tune_budget_minutes=budget_minutes)
    return tune(out, settings, gate_questions=read_question_texts(out), on_stage=say)
