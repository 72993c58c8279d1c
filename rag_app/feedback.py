"""Ratings of the chat page's answers: thumbs up or down, with an optional note.

Kept per collection in one JSONL file that is only ever appended (`append_line`, as the audit
log). Changing a rating, taking it back or adding a note appends the answer's whole record
again under the same id: the latest record of each answer is its rating, and the history stays.

An upvoted answer's cited documents are labels for its question (`rag feedback export` writes
them as a set `rag tune --questions` reads). A downvote is no label: the answer was wrong, which
does not say which documents would have been right; `rag feedback list` shows them for review.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from rag_app.errors import InvalidInput
from rag_app.files import append_line, iter_models
from rag_app.types import Answer, Passage

Rating = Literal["up", "down"]


class CitedChunk(BaseModel):
    """A passage the answer cited, as the user saw it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n: int
    chunk_id: str | None
    source: str
    section: str | None
    page: int | None
    text: str

    @classmethod
    def of(cls, passage: Passage) -> CitedChunk:
        return cls.model_validate(
            passage.model_dump(include={"n", "chunk_id", "source", "section", "page", "text"})
        )


class ShownAnswer(BaseModel):
    """An answer the page showed, as the server produced it: what a rating refers to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    collection: str
    question: str
    """The standalone question the chain answered (a follow-up rewritten with its context)."""
    asked: str
    """The question as the user typed it."""
    answer: str
    cited: list[CitedChunk]

    @classmethod
    def of(cls, answer: Answer, asked: str, collection: str, id: str) -> ShownAnswer:
        return cls(
            id=id,
            collection=collection,
            question=answer.question,
            asked=asked,
            answer=answer.text,
            cited=[CitedChunk.of(p) for p in answer.citations],
        )


class Feedback(ShownAnswer):
    """One line of the file. `user` is None when the page was served without sign-in;
    `rating` None means the rating was taken back."""

    time: str
    user: str | None
    rating: Rating | None
    note: str = ""

    def describe(self) -> str:
        """A few lines for `rag feedback list`."""
        cited = "".join(
            f"\n    [{c.n}] {c.source}"
            + (f" > {c.section}" if c.section else "")
            + (f" (page {c.page})" if c.page else "")
            for c in self.cited
        )
        note = f"\n  note: {self.note}" if self.note else ""
        return (
            f"{self.time}  {self.user or '(no sign-in)'}  {self.rating}  {self.question}{note}"
            f"\n  answer: {' '.join(self.answer.split())}"
            + (f"\n  cited:{cited}" if cited else "\n  cited nothing")
        )


def record(
    path: Path, shown: ShownAnswer, user: str | None, rating: Rating | None, note: str = ""
) -> Feedback:
    """Append `shown`'s rating now (`shown` may be an earlier record of the answer)."""
    feedback = Feedback(
        **shown.model_dump(include=set(ShownAnswer.model_fields)),
        time=datetime.now(UTC).isoformat(timespec="seconds"),
        user=user,
        rating=rating,
        note=note.strip(),
    )
    append_line(path, feedback)
    return feedback


def ratings(path: Path) -> list[Feedback]:
    """Each rated answer's latest record, in the order they were first rated; answers whose
    rating was taken back are left out. None before the first rating."""
    if not path.exists():
        return []
    latest = {feedback.id: feedback for _, feedback in iter_models(path, Feedback, InvalidInput)}
    return [feedback for feedback in latest.values() if feedback.rating is not None]


def tally(rated: Iterable[Feedback]) -> str:
    """The count the CLI and the evaluation report show, e.g. `3 up, 1 down`."""
    counts = Counter(feedback.rating for feedback in rated)
    return f"{counts['up']} up, {counts['down']} down"


def _same_question(question: str) -> str:
    return " ".join(question.split()).casefold()


@dataclass(frozen=True)
class Labels:
    questions: list[dict[str, Any]]
    """`{"id", "question", "sources", "chunks", "upvotes"}` per question; `rag tune` reads
    `question` and `sources` (documents: it has no chunk-level labels), `rag eval answers`
    `id` and `question`."""
    unlabelled: int
    """Upvoted answers that cite no document the collection still holds."""


def labelled_questions(rated: Iterable[Feedback], documents: Collection[str]) -> Labels:
    """One entry per upvoted question (spelled alike, whatever the case and spacing), with
    the sources its upvoted answers cited merged, restricted to `documents` (the collection's
    now: `rag tune` refuses a label naming none of them)."""
    merged: dict[str, dict[str, Any]] = {}
    unlabelled = 0
    for feedback in rated:
        if feedback.rating != "up":
            continue
        cited = [c for c in feedback.cited if c.source in documents]
        if not cited:
            unlabelled += 1
            continue
        key = _same_question(feedback.question)
        entry = merged.setdefault(
            key,
            {
                "id": hashlib.sha256(key.encode()).hexdigest()[:12],
                "question": " ".join(feedback.question.split()),
                "sources": [],
                "chunks": [],
                "upvotes": 0,
            },
        )
        entry["upvotes"] += 1
        for chunk in cited:
            if chunk.source not in entry["sources"]:
                entry["sources"].append(chunk.source)
            if chunk.chunk_id and chunk.chunk_id not in entry["chunks"]:
                entry["chunks"].append(chunk.chunk_id)
    return Labels(list(merged.values()), unlabelled)
