"""`rag calibrate`: the confidence gate's thresholds, learned per collection without labels.

A fixed cosine threshold cannot fit every collection: long specific questions over papers score
0.52 at worst, short vague ones over a manual 0.13. What a collection's off-topic questions score
can be measured on the collection itself. Everyday questions (`off_topic.txt`) are the negatives:
each threshold is set just above the `off_topic_share` most on-topic-looking of them, so about
that share of off-topic questions passes each signal (and the LLM and the support check still
stand behind it). Questions are made from the collection's own passages (a span of a sentence,
sampled across documents) to report how many of those the gate would let through, and the same
spans with a name the collection never mentions swapped in show the key-term check refuses them.
The zero-label work's generated questions are a better positive set; `positives` takes them.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

from rag_app.config import Settings
from rag_app.retrieval.coverage import key_terms, question_words
from rag_app.retrieval.pipeline import CALIBRATION_KEY, GateThresholds, RetrievalPipeline
from rag_app.store import CollectionStore
from rag_app.text import WORD, stems
from rag_app.types import Chunk

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
OFF_TOPIC_SHARE = 0.05
MIN_NEGATIVES = 20
"""Fewer off-topic questions than this left for a collection: keep the configured thresholds."""

_NAMES = (
    "Zanzibar Telecom",
    "Apple",
    "NVIDIA",
    "GLM-130B",
    "Kilimanjaro",
    "Toyota",
    "Beethoven",
    "Patagonia",
    "Mistral-7B",
    "Reykjavik",
    "Samsung",
    "Vivaldi",
)
"""Names swapped into questions from the collection's own passages; those it mentions are
skipped."""


class GateCalibration(BaseModel):
    """A collection's calibrated gate and the measurements behind it (`rag status` shows it)."""

    model_config = ConfigDict(frozen=True)

    thresholds: GateThresholds
    generation: int = Field(description="The collection's state generation it was made at.")
    calibrated_at: str
    off_topic: int = Field(
        description="Off-topic questions used (those whose every word the collection holds "
        "are left out: they may be on its topic)."
    )
    off_topic_accepted: float = Field(
        description="Share of them the calibrated gate lets through (NaN: none used)."
    )
    own: int = Field(description="Questions made from the collection's own passages.")
    own_accepted: float = Field(description="Share of them the calibrated gate lets through.")
    swapped: int = Field(description="Own questions with a name the collection lacks swapped in.")
    swapped_refused: float = Field(description="Share of them refused for the missing name.")

    def summary(self) -> str:
        return (
            f"{self.thresholds.describe()}; lets through "
            f"{_pct(self.own_accepted)} of {self.own} own questions, "
            f"{_pct(self.off_topic_accepted)} of {self.off_topic} off-topic; refuses "
            f"{_pct(self.swapped_refused)} of {self.swapped} with a foreign name"
        )


def _pct(share: float) -> str:
    return "n/a" if math.isnan(share) else f"{share:.0%}"


def off_topic_questions() -> list[str]:
    text = resources.files("rag_app.tuning").joinpath("off_topic.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def own_questions(children: Sequence[Chunk], count: int, seed: int) -> list[str]:
    """A span of 6-12 words of one sentence per sampled child, children taken round-robin
    over documents so every document is asked about (not the first N chunks)."""
    rng = random.Random(seed)
    by_source: dict[str, list[Chunk]] = {}
    for chunk in children:
        by_source.setdefault(chunk.source, []).append(chunk)
    for chunks in by_source.values():
        rng.shuffle(chunks)
    questions: list[str] = []
    rounds = max((len(c) for c in by_source.values()), default=0)
    for i in range(rounds):
        for chunks in by_source.values():
            if i >= len(chunks) or len(questions) == count:
                continue
            sentences = [s for s in _SENTENCE.split(chunks[i].text) if len(s.split()) >= 8]
            if sentences:
                words = rng.choice(sentences).split()
                start = rng.randrange(max(1, len(words) - 10))
                questions.append(" ".join(words[start : start + rng.randint(6, 12)]))
    return questions


def threshold_above(values: list[float], share: float) -> float:
    """A value, to 3 decimals, that at most `share` of `values` reach: just above the one
    ranked after them (values tied with it are refused with it)."""
    ordered = sorted(values, reverse=True)
    return math.floor(ordered[math.floor(share * len(ordered))] * 1000) / 1000 + 0.001


def _swap(question: str, name: str) -> str:
    terms = key_terms(question)
    if terms:
        return question.replace(terms[0], name, 1)
    return f"{question} at {name}"


def calibrate(
    store: CollectionStore,
    pipeline: RetrievalPipeline,
    settings: Settings,
    own: Sequence[str] | None = None,
    count: int = 100,
) -> GateCalibration:
    """Measure, set and store the collection's gate thresholds. `pipeline` is the chat's
    retrieval path over the collection; its own thresholds are not used."""
    index = store.bm25()

    def covered(words: set[str]) -> bool:
        return all(f > 0 for f in index.document_frequencies(sorted(words)).values())

    negatives = [q for q in off_topic_questions() if not covered(question_words(q))]
    own = list(own) if own is not None else own_questions(store.state.children(), count, 0)
    raw = replace(pipeline, min_dense_similarity=-1.0, min_word_coverage=None)
    scored = [raw.run(q) for q in negatives]
    dense = [r.best("dense") for r in scored]
    coverage = [r.gate.coverage for r in scored]
    thresholds = GateThresholds.configured(settings)
    if len(negatives) >= MIN_NEGATIVES and not any(map(math.isnan, dense + coverage)):
        min_words = threshold_above(coverage, OFF_TOPIC_SHARE)
        thresholds = GateThresholds(
            min_dense_similarity=threshold_above(dense, OFF_TOPIC_SHARE),
            min_word_coverage=min_words if min_words <= 1.0 else None,
        )
    gate = replace(
        pipeline,
        min_dense_similarity=thresholds.min_dense_similarity,
        min_word_coverage=thresholds.min_word_coverage,
    )

    def accepted(questions: Sequence[str]) -> float:
        if not questions:
            return math.nan
        return sum(gate.run(q).gate.confident for q in questions) / len(questions)

    names = [n for n in _NAMES if not covered(set(stems(WORD.findall(n))))]
    swapped = [_swap(q, names[i % len(names)]) for i, q in enumerate(own)] if names else []
    refused = [gate.run(q).gate.missing for q in swapped]
    calibration = GateCalibration(
        thresholds=thresholds,
        generation=store.state.generation,
        calibrated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        off_topic=len(negatives),
        off_topic_accepted=accepted(negatives),
        own=len(own),
        own_accepted=accepted(own),
        swapped=len(swapped),
        swapped_refused=sum(map(bool, refused)) / len(refused) if refused else math.nan,
    )
    store.state.set_meta(CALIBRATION_KEY, calibration.model_dump_json())
    return calibration


def stored_calibration(store: CollectionStore) -> GateCalibration | None:
    stored = store.state.meta(CALIBRATION_KEY)
    return GateCalibration.model_validate_json(stored) if stored else None


def calibrate_collection(
    settings: Settings, own: Sequence[str] | None = None
) -> GateCalibration | None:
    """Calibrate the configured collection over the chat's own retrieval path (None: it is
    empty, there is nothing to fit). `own`: questions about the collection, e.g. a set from
    `rag questions generate`, instead of spans of its passages."""
    from rag_app.chain.rag import Components

    parts = Components(settings)
    try:
        if not parts.store.state.has_children():
            return None
        return calibrate(parts.store, parts.pipeline, settings, own)
    finally:
        parts.store.close()
