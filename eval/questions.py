"""Question sets for `rag eval answers`.

Accepted formats (see docs/evaluation.md):

- JSONL, one object per line: ``{"question": str, "reference": str?, "id": str?,
  "answerable": bool?}`` (``ground_truth`` and ``answer`` are accepted for ``reference``);
- JSON, a list of such objects;
- JSON in ARAGOG's shape: ``{"questions": [str], "ground_truths": [str]}``, aligned by index.

`answerable: false` marks a question the documents cannot answer (the right reply is to
abstain); `unanswerable` (a regular expression) marks the matching questions the same way, for
files that cannot carry the flag, e.g. ARAGOG's GLM-130B questions.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag_app.beir import DatasetError
from rag_app.files import iter_jsonl

_REFERENCE_KEYS = ("reference", "ground_truth", "answer")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    reference: str | None = None
    answerable: bool = True


def _question(record: Any, where: str) -> Question:
    if not isinstance(record, dict):
        raise DatasetError(f"{where}: expected an object with a 'question'")
    text = record.get("question")
    if not isinstance(text, str) or not text.strip():
        raise DatasetError(f"{where}: 'question' must be a non-empty string")
    reference = next((record[k] for k in _REFERENCE_KEYS if record.get(k) is not None), None)
    if reference is not None and not isinstance(reference, str):
        raise DatasetError(f"{where}: the reference answer must be a string")
    answerable = record.get("answerable", True)
    if not isinstance(answerable, bool):
        raise DatasetError(f"{where}: 'answerable' must be true or false")
    qid = record.get("id")
    if qid is None:
        qid = hashlib.sha256(text.strip().encode()).hexdigest()[:12]
    return Question(str(qid), text.strip(), reference or None, answerable)


def _records(path: Path) -> list[Question]:
    if path.suffix == ".jsonl":
        return [_question(r, f"{path}:{n}") for n, r in iter_jsonl(path, DatasetError)]
    if not path.is_file():
        raise DatasetError(f"{path} is missing")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DatasetError(f"{path}:{err.lineno}: not JSON ({err.msg})") from None
    if isinstance(data, dict) and isinstance(data.get("questions"), list):
        references = data.get("ground_truths") or data.get("references") or []
        if references and len(references) != len(data["questions"]):
            raise DatasetError(
                f"{path}: {len(data['questions'])} questions but {len(references)} ground_truths"
            )
        data = [
            {"question": q, "reference": references[i] if references else None}
            for i, q in enumerate(data["questions"])
        ]
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a list of questions or {{'questions': [...]}}")
    return [_question(r, f"{path}: question {i}") for i, r in enumerate(data)]


def load_questions(path: Path, unanswerable: str | None = None) -> list[Question]:
    questions = _records(path)
    if not questions:
        raise DatasetError(f"{path}: no questions")
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            raise DatasetError(f"{path}: question id {q.id!r} appears twice")
        seen.add(q.id)
    if unanswerable:
        pattern = re.compile(unanswerable)
        questions = [
            Question(q.id, q.question, q.reference, False) if pattern.search(q.question) else q
            for q in questions
        ]
    return questions


def select(
    questions: list[Question], limit: int | None = None, sample: int | None = None, seed: int = 0
) -> list[Question]:
    """`sample` draws that many answerable questions at random (reproducible by `seed`) and
    keeps every unanswerable one, which is what abstention is measured on; file order is
    kept. `limit` then keeps the first N."""
    chosen = questions
    answerable = [i for i, q in enumerate(questions) if q.answerable]
    if sample is not None and sample < len(answerable):
        picked = set(random.Random(seed).sample(answerable, sample))
        chosen = [q for i, q in enumerate(questions) if i in picked or not q.answerable]
    return chosen[:limit] if limit is not None else chosen
