"""Train a collection's cross-encoder from labelled questions, within a wall-time budget.

The model starts from the bundled MiniLM bi-encoder weights and reads (question, passage)
together. Its score comes from one of two heads (`tune_reranker_head`): "cls", the standard
sequence-classification model (a fresh head on the [CLS] token through BERT's pooler), or
"mean", a fresh linear head on the mean of the token vectors: the pooling the bi-encoder was
trained with, so the head starts from representations that already mean something. The loss
(`tune_reranker_loss`) is pointwise binary cross-entropy on (question, passage, 0/1) pairs, the
positives up-weighted by the negative ratio, or listwise (ListNet, LambdaLoss) over each
question's positive and mined hard negatives. CPU cost decides the rest: inputs cut near the
child chunk size, the embeddings and lower layers frozen, validation on held-out questions to
keep the best checkpoint and stop early.

The folder written (`models_dir/rerankers/COLLECTION`) replaces the previous one only once it is
complete, and carries `card.json`: base model, data, loss, settings, validation scores, wall
time, whether the cross-encoder's order should replace the fused order or be RRF-fused with
it, and whether it runs as PyTorch or as its int8 ONNX copy (all decided on the validation
questions).
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag_app.config import Settings
from rag_app.models.cards import (
    CardData,
    Combine,
    RerankerCard,
    RerankerValidation,
)
from rag_app.models.onnx_reranker import ONNX_INT8
from rag_app.retrieval.fusion import rank_blend, reciprocal_rank_fusion
from rag_app.retrieval.metrics import ndcg_at_k
from rag_app.tuning.data import Example
from rag_app.tuning.training import (
    budget_callback,
    install,
    training_arguments,
    training_run,
    validation_gain,
)

# nDCG@10 an int8 copy may lose on validation and still replace the PyTorch model.
INT8_TOLERANCE = 0.005
# Weights of the cross-encoder's score in the "blend-W" uses tried on validation.
BLEND_WEIGHTS = (0.25, 0.5, 0.75)


def orders(
    example: Example, scores: Sequence[float], depths: Sequence[int], rrf_k: int
) -> dict[str, list[str]]:
    """The validation candidates in every order the chain could use: fused (as retrieved),
    and for each rerank depth d, the top d either replaced by the cross-encoder's order
    ("replace@d"), RRF-combined with it ("rrf@d") or blended with its scores at weight W
    ("blend-W@d", see `rank_blend`), the rest kept in fused order."""
    fused = list(example.candidates)
    by_text = dict(zip(fused, scores, strict=True))
    found: dict[str, list[str]] = {"fused": fused}
    for d in depths:
        top = sorted(fused[:d], key=lambda t: -by_text[t])
        combined = reciprocal_rank_fusion(
            [[(t, 0.0) for t in fused[:d]], [(t, 0.0) for t in top]], rrf_k
        )
        found[f"replace@{d}"] = top + fused[d:]
        found[f"rrf@{d}"] = [t for t, _ in combined] + fused[d:]
        for w in BLEND_WEIGHTS:
            blended = rank_blend(fused[:d], [by_text[t] for t in fused[:d]], w)
            found[f"blend-{w}@{d}"] = [t for t, _ in blended] + fused[d:]
    return found


def validate(
    model: Any, examples: list[Example], depths: Sequence[int], rrf_k: int, batch_size: int
) -> tuple[dict[str, list[float]], list[float]]:
    """nDCG@10 of each order in `orders` per held-out question (the same questions, in the
    same order, for every order); and, for each question whose candidates hold a positive,
    the best score among them (what abstention looks at)."""
    from rag_app.retrieval.rerank import cross_encoder_logits

    totals: dict[str, list[float]] = {}
    best_scores: list[float] = []
    for example in examples:
        if not example.candidates:
            continue
        pairs = [(example.question, text) for text in example.candidates]
        scores = [float(s) for s in cross_encoder_logits(model, pairs, batch_size)]
        if set(example.positives) & set(example.candidates):
            best_scores.append(max(scores))
        ranked = orders(example, scores, depths, rrf_k)
        for name, order in ranked.items():
            # Validation works on passage texts, not documents; binary relevance.
            relevant = dict.fromkeys(example.positives, 1)
            totals.setdefault(name, []).append(ndcg_at_k(order, relevant, 10))
    return totals, best_scores


def means(per_question: dict[str, list[float]]) -> dict[str, float]:
    return {name: sum(v) / len(v) for name, v in per_question.items()}


def best_use(scores: dict[str, float]) -> tuple[str, int]:
    """(combine, depth) with the best validation nDCG@10; ties go to the shallower depth
    (cheaper) and to "replace"."""
    options = [name for name in scores if "@" in name]
    best = max(options, key=lambda n: (scores[n], -int(n.split("@")[1]), n.startswith("replace")))
    combine, depth = best.split("@")
    return combine, int(depth)


def _freeze(model: Any, layers: int) -> int:
    """Freeze the embeddings and the lowest `layers` transformer layers; returns how many
    parameters still train."""
    backbone = model[0].auto_model.base_model
    if layers > 0:
        for parameter in backbone.embeddings.parameters():
            parameter.requires_grad = False
        for layer in backbone.encoder.layer[:layers]:
            for parameter in layer.parameters():
                parameter.requires_grad = False
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _labelled(example: Example) -> list[tuple[str, float]]:
    return [(p, 1.0) for p in example.positives] + [(n, 0.0) for n in example.negatives]


def _pairs(examples: list[Example]) -> dict[str, list[Any]]:
    """Pointwise rows: one (query, passage, label) per passage."""
    rows: dict[str, list[Any]] = {"query": [], "passage": [], "label": []}
    for example in examples:
        for text, label in _labelled(example):
            rows["query"].append(example.question)
            rows["passage"].append(text)
            rows["label"].append(label)
    return rows


def _lists(examples: list[Example]) -> dict[str, list[Any]]:
    """Listwise rows: one (query, [passages], [labels]) per question."""
    rows: dict[str, list[Any]] = {"query": [], "docs": [], "labels": []}
    for example in examples:
        labelled = _labelled(example)
        rows["query"].append(example.question)
        rows["docs"].append([text for text, _ in labelled])
        rows["labels"].append([label for _, label in labelled])
    return rows


def _model(base_model: str, head: str, max_length: int, init: Path | None = None) -> Any:
    from sentence_transformers.cross_encoder import CrossEncoder

    if init is not None:
        return CrossEncoder(str(init), max_length=max_length, device="cpu")
    if head == "cls":
        return CrossEncoder(base_model, num_labels=1, max_length=max_length, device="cpu")
    from sentence_transformers.cross_encoder.modules import Dense, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    transformer = Transformer(base_model, max_seq_length=max_length)
    dimension = transformer.get_embedding_dimension()
    return CrossEncoder(
        modules=[
            transformer,
            Pooling(dimension, "mean"),
            Dense(dimension, 1, activation_function=None, module_output_name="scores"),
        ],
        device="cpu",
    )


def _loss(model: Any, kind: str, rows: dict[str, list[Any]]) -> tuple[Any, str]:
    """The training loss and how the card describes it."""
    import torch
    from sentence_transformers.cross_encoder import losses

    if kind == "bce":
        positives = sum(rows["label"])
        weight = (len(rows["label"]) - positives) / max(1.0, positives)
        return (
            losses.BinaryCrossEntropyLoss(model, pos_weight=torch.tensor(weight)),
            f"BinaryCrossEntropyLoss(pos_weight={weight:.2f})",
        )
    if kind == "listnet":
        return losses.ListNetLoss(model), "ListNetLoss (one list per question)"
    return losses.LambdaLoss(model), "LambdaLoss (NDCGLoss2++ weighting, one list per question)"


def train_cross_encoder(
    train: list[Example],
    validation: list[Example],
    base_model: str,
    target: Path,
    settings: Settings,
    data: dict[str, Any],
    progress: bool = False,
) -> RerankerCard:
    """Train and validate the cross-encoder, and install it at `target` if it clearly beats
    the fused order on validation (the paired interval of its gain above 0) or
    `tune_keep_worse`; returns its card."""
    import torch
    from datasets import Dataset
    from sentence_transformers.cross_encoder import (
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderRerankingEvaluator
    from transformers import EarlyStoppingCallback

    from rag_app.retrieval.rerank import rerank_depth

    s = settings
    started = time.perf_counter()
    torch.manual_seed(s.tune_seed)
    model = _model(base_model, s.tune_reranker_head, s.tune_max_length, s.tune_reranker_init)
    trainable = _freeze(model, s.tune_frozen_layers)
    deepest = rerank_depth(s, None)
    depths = [d for d in (10, 20, 30, 50) if d < deepest] + [deepest]
    listwise = s.tune_reranker_loss != "bce"
    rows = _lists(train) if listwise else _pairs(train)
    pairs = sum(len(d) for d in rows["docs"]) if listwise else len(rows["label"])
    # The batch size counts pairs whatever the loss, so a step costs the same.
    per_row = pairs / max(1, len(rows["query"]))
    batch_size = max(1, round(s.tune_batch_size / per_row))
    dataset = Dataset.from_dict(rows).shuffle(seed=s.tune_seed)
    loss, loss_name = _loss(model, s.tune_reranker_loss, rows)
    # Checkpoint selection reranks a shorter list than the final validation: each evaluation
    # costs ~len(validation) x tune_candidates forward passes, paid several times per epoch.
    evaluator = CrossEncoderRerankingEvaluator(
        samples=[
            {
                "query": e.question,
                "positive": e.positives,
                "documents": e.candidates[: s.tune_candidates],
            }
            for e in validation
        ],
        at_k=10,
        name="validation",
        batch_size=s.rerank_batch_size,
        always_rerank_positives=False,
        show_progress_bar=False,
    )
    budget = budget_callback(s.tune_budget_minutes * 60)
    with tempfile.TemporaryDirectory(prefix="rag-tune-") as work:
        args = training_arguments(
            CrossEncoderTrainingArguments,
            work,
            rows=len(dataset),
            batch_size=batch_size,
            epochs=s.tune_epochs,
            learning_rate=s.tune_learning_rate,
            seed=s.tune_seed,
            progress=progress,
        )
        trainer = CrossEncoderTrainer(
            model=model,
            args=args,
            train_dataset=dataset,
            loss=loss,
            evaluator=evaluator,
            callbacks=[budget, EarlyStoppingCallback(early_stopping_patience=3)],
        )
        trainer.train()
        steps = trainer.state.global_step
    train_seconds = time.perf_counter() - started
    begun = time.perf_counter()
    per_question, best_scores = validate(model, validation, depths, s.rrf_k, s.rerank_batch_size)
    after = means(per_question)
    torch_seconds = time.perf_counter() - begun
    combine, depth = best_use(after)
    work_dir = Path(tempfile.mkdtemp(prefix="rag-tune-onnx-"))
    int8 = int8_onnx_trial(
        model, work_dir, validation, depths, s, after[f"{combine}@{depth}"], torch_seconds
    )
    # A reranker no better than the fused order would make every answer worse (or slower).
    gain = validation_gain(per_question[f"{combine}@{depth}"], per_question["fused"])
    installed = s.tune_keep_worse or gain.clear
    card = RerankerCard(
        base_model=base_model,
        initialised_from=str(s.tune_reranker_init) if s.tune_reranker_init else None,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        data=CardData(
            **data,
            train_questions=len(train),
            validation_questions=len(validation),
            pairs=pairs,
        ),
        loss=loss_name,
        settings=training_run(
            s,
            budget,
            steps,
            head=s.tune_reranker_head,
            max_length=s.tune_max_length,
            frozen_layers=s.tune_frozen_layers,
            trainable_parameters=trainable,
            batch_size=batch_size,
            learning_rate=s.tune_learning_rate,
            epochs=s.tune_epochs,
        ),
        validation=RerankerValidation(
            metric="ndcg@10 over child chunks, binary relevance",
            fused=after["fused"],
            trained={k: v for k, v in after.items() if k != "fused"},
            gain=gain,
        ),
        combine=Combine.parse(combine),
        rerank_depth=depth,
        # Keep-all: every answerable validation question stays above it. A listwise loss
        # fixes no score scale, so a fixed logit (0) would mean nothing for this model.
        min_score=int8["min_score"] if int8["chosen"] else min(best_scores, default=None),
        int8_onnx=int8,
        backend="onnx-int8" if int8["chosen"] else "torch",
        installed=installed,
        wall_seconds=round(train_seconds, 1),
        pairs_per_second=round(steps * batch_size * per_row / max(train_seconds, 1e-9), 2),
    )
    if installed:
        exported = {ONNX_INT8: work_dir / ONNX_INT8} if int8["chosen"] else {}
        install(model, card, target, exported)
    shutil.rmtree(work_dir, ignore_errors=True)
    return card


def int8_onnx_trial(
    model: Any,
    work_dir: Path,
    validation: list[Example],
    depths: Sequence[int],
    settings: Settings,
    torch_score: float,
    torch_seconds: float,
) -> dict[str, Any]:
    """Exports the trained model to int8 ONNX and validates it the same way: it is chosen
    when it is faster and its validation nDCG@10 (at the use torch chose) is within
    `INT8_TOLERANCE` of torch's."""
    from rag_app.models.onnx_reranker import OnnxCrossEncoder, export_int8

    model.save(str(work_dir))
    export_int8(model, work_dir)
    onnx = OnnxCrossEncoder(work_dir, model.max_length)
    begun = time.perf_counter()
    per_question, best_scores = validate(
        onnx, validation, depths, settings.rrf_k, settings.rerank_batch_size
    )
    onnx_seconds = time.perf_counter() - begun
    best = max((v for k, v in means(per_question).items() if "@" in k), default=math.nan)
    holds = best >= torch_score - INT8_TOLERANCE
    return {
        "validation_best": best,
        "torch_validation_best": torch_score,
        "validation_seconds": round(onnx_seconds, 1),
        "torch_validation_seconds": round(torch_seconds, 1),
        "speedup": round(torch_seconds / max(onnx_seconds, 1e-9), 2),
        "min_score": min(best_scores, default=None),
        "chosen": holds and onnx_seconds < torch_seconds,
    }
