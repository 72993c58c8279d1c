"""Adapt a collection's bi-encoder to its labelled questions, then re-embed the collection.

Training uses sentence-transformers' MultipleNegativesRankingLoss on (question, relevant
passage, mined hard negative): every other passage in the batch is a negative too, so a few
hundred questions teach the model the collection's vocabulary (SciFact's claims against
abstracts) without forgetting what the base model knew. Validation reranks the held-out
questions' retrieved candidates by cosine similarity (nDCG@10) before and after; the tuned model
is installed only when it beats the base model there by more than the luck of which questions
were held out.

Re-embedding writes every searchable child into a new Chroma collection with the tuned model;
the collection's state switches to it only once it is complete, so queries and ingests keep
using the old vectors until then.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag_app.config import Settings
from rag_app.errors import InvalidInput
from rag_app.models.cards import CardData, EmbedderCard, EmbedderValidation
from rag_app.models.resolve import EmbedderSpec
from rag_app.tuning.data import Example
from rag_app.tuning.training import (
    budget_callback,
    install,
    training_arguments,
    training_run,
    validation_gain,
)

if TYPE_CHECKING:
    from rag_app.store import CollectionStore, TunedEmbedder


def tuned_embedder_root(models_dir: Path, collection: str) -> Path:
    """Holds one folder per tuning of the collection's bi-encoder, named by its time."""
    return models_dir / "embedders" / collection


def _rows(examples: list[Example], spec: EmbedderSpec, negatives: int) -> dict[str, list[str]]:
    """One row per (question, positive) with the first `negatives` mined negatives; questions
    with fewer negatives are left out (every row needs the same columns)."""
    names = [f"negative_{i}" for i in range(1, negatives + 1)]
    rows: dict[str, list[str]] = {"anchor": [], "positive": [], **{n: [] for n in names}}
    for example in examples:
        if len(example.negatives) < negatives:
            continue
        for positive in example.positives:
            rows["anchor"].append(spec.query_prefix + example.question)
            rows["positive"].append(spec.passage_prefix + positive)
            for name, text in zip(names, example.negatives, strict=False):
                rows[name].append(spec.passage_prefix + text)
    return rows


def _evaluator(validation: list[Example], spec: EmbedderSpec, batch_size: int) -> Any:
    from sentence_transformers.sentence_transformer.evaluation import RerankingEvaluator

    samples: list[dict[str, str | list[str]]] = []
    for e in validation:
        positives = set(e.positives)
        samples.append(
            {
                "query": spec.query_prefix + e.question,
                "positive": [spec.passage_prefix + p for p in e.positives],
                "negative": [spec.passage_prefix + c for c in e.candidates if c not in positives],
            }
        )
    return RerankingEvaluator(
        samples, at_k=10, name="validation", batch_size=batch_size, write_csv=False
    )


def _per_question(
    model: Any, validation: list[Example], spec: EmbedderSpec, batch_size: int
) -> list[float]:
    """nDCG@10 per held-out question, its candidates ranked by cosine: what the evaluator
    averages, kept per question so the gain gets a paired interval."""
    import numpy as np

    from rag_app.retrieval.metrics import ndcg_at_k

    scores = []
    for e in validation:
        docs = list(dict.fromkeys([*e.positives, *e.candidates]))
        query = model.encode(
            [spec.query_prefix + e.question], batch_size=batch_size, normalize_embeddings=True
        )[0]
        vectors = model.encode(
            [spec.passage_prefix + d for d in docs],
            batch_size=batch_size,
            normalize_embeddings=True,
        )
        order = [docs[i] for i in np.argsort(-(vectors @ query), kind="stable")]
        scores.append(ndcg_at_k(order, dict.fromkeys(e.positives, 1), 10))
    return scores


def train_embedder(
    train: list[Example],
    validation: list[Example],
    base: EmbedderSpec,
    target: Path,
    settings: Settings,
    data: dict[str, Any],
    progress: bool = False,
) -> EmbedderCard:
    """Train from `base`; install at `target` if it clearly beats the base model on
    validation (the paired interval of its gain above 0). Returns the card (`installed` says
    whether it was)."""
    import torch
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers
    from transformers import EarlyStoppingCallback

    s = settings
    started = time.perf_counter()
    torch.manual_seed(s.tune_seed)
    model = SentenceTransformer(str(base.path), device="cpu", local_files_only=True)
    rows = _rows(train, base, s.tune_embedder_negatives)
    if len(rows["anchor"]) < 2:
        raise InvalidInput(
            f"only {len(rows['anchor'])} training question(s) with a positive and "
            f"{s.tune_embedder_negatives} hard negative(s): too few to train the bi-encoder"
        )
    dataset = Dataset.from_dict(rows).shuffle(seed=s.tune_seed)
    evaluator = _evaluator(validation, base, s.embedding_batch_size)
    before = _per_question(model, validation, base, s.embedding_batch_size)
    budget = budget_callback(s.tune_budget_minutes * 60)
    with tempfile.TemporaryDirectory(prefix="rag-tune-") as work:
        args = training_arguments(
            SentenceTransformerTrainingArguments,
            work,
            rows=len(dataset),
            batch_size=s.tune_embedder_batch_size,
            epochs=s.tune_embedder_epochs,
            learning_rate=s.tune_embedder_learning_rate,
            seed=s.tune_seed,
            progress=progress,
            # Validation encodes every candidate passage again, about the cost of an epoch
            # of training on a few hundred questions: once per epoch is enough.
            evals_per_epoch=1,
            # A question with two relevant passages must not meet itself as a negative.
            batch_sampler=BatchSamplers.NO_DUPLICATES,
        )
        trainer = SentenceTransformerTrainer(
            model=model,
            args=args,
            train_dataset=dataset,
            loss=MultipleNegativesRankingLoss(model),
            evaluator=evaluator,
            callbacks=[budget, EarlyStoppingCallback(early_stopping_patience=3)],
        )
        trainer.train()  # the best checkpoint on validation is loaded at the end
        steps = trainer.state.global_step
    after = _per_question(model, validation, base, s.embedding_batch_size)
    gain = validation_gain(after, before)
    seconds = time.perf_counter() - started
    card = EmbedderCard(
        base_model=str(base.path),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        data=CardData(
            **data,
            train_questions=len(train),
            validation_questions=len(validation),
            rows=len(rows["anchor"]),
        ),
        loss="MultipleNegativesRankingLoss (in-batch + mined hard negatives)",
        settings=training_run(
            s,
            budget,
            steps,
            hard_negatives=s.tune_embedder_negatives,
            batch_size=s.tune_embedder_batch_size,
            learning_rate=s.tune_embedder_learning_rate,
            epochs=s.tune_embedder_epochs,
        ),
        validation=EmbedderValidation(
            metric="ndcg@10 reranking the retrieved candidates by cosine, binary relevance",
            base=sum(before) / len(before) if before else math.nan,
            tuned=sum(after) / len(after) if after else math.nan,
            gain=gain,
        ),
        installed=gain.clear or s.tune_keep_worse,
        wall_seconds=round(seconds, 1),
    )
    if card.installed:
        install(model, card, target)
        # The same query/passage prefixes as the base model (BGE/E5 need them).
        prefixes = {"query_prefix": base.query_prefix, "passage_prefix": base.passage_prefix}
        (target / "rag_app.json").write_text(json.dumps(prefixes) + "\n")
    return card


def reembed(store: CollectionStore, model: Path, progress: bool = False) -> TunedEmbedder:
    """Switch the collection to `model` (`CollectionStore.switch_embedder`), then delete the
    tuned models it used before."""
    from rag_app.models.embeddings import get_embedder
    from rag_app.store import TunedEmbedder

    s = store.settings
    tuned = TunedEmbedder(str(model), s.embedding_model, f"{s.collection}--{model.name}")
    store.switch_embedder(tuned, get_embedder(str(model), s.embedding_batch_size), progress)
    for old in model.parent.iterdir():
        if old != model:
            shutil.rmtree(old, ignore_errors=True)
    return tuned
