"""`rag eval support`: the support check's verdicts against statements labelled by hand.

Each labelled statement is one answer sentence the chain wrote (ARAGOG runs under
`eval/results/`) with the passages it cited and a person's verdict: supported when everything
it claims is stated in, or directly follows from, those passages; a relation or purpose the
passages do not state ("X differs from Y by ...", "to address ...") makes it unsupported, as
does a fact cited to the wrong passage.

The labels split into a dev half and a test half by a hash of each statement's id, so the split
stays put when labels are added. `min_support` is calibrated on dev: the lowest threshold whose
"supported" verdicts are right at least `target` of the time (the cited-claim support the
trust issue asks of an answer), since lower keeps more true sentences. Precision and recall are
then reported on test, which the threshold never saw.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from eval.report import markdown_table, provenance, write_json
from rag_app.chain.support import CitedPassages, SupportChecker
from rag_app.errors import InvalidInput
from rag_app.files import read_models
from rag_app.protocols import TextEncoder
from rag_app.types import Passage


class CitedText(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    n: int
    heading: str = ""
    text: str


class LabelledStatement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    question: str
    sentence: str
    passages: list[CitedText] = Field(min_length=1)
    supported: bool
    source: str = ""
    """The results folder the sentence was taken from."""

    @property
    def dev(self) -> bool:
        return int(hashlib.sha1(self.id.encode()).hexdigest(), 16) % 2 == 0


def load_labels(path: Path) -> list[LabelledStatement]:
    """The labelled statements; a bad line is an error naming the file, line and field."""
    return read_models(path, LabelledStatement, "statement", InvalidInput)


def support_scores(encoder: TextEncoder, statements: Sequence[LabelledStatement]) -> list[float]:
    """The check's support score for each statement, over exactly the passages it cited; 0 for
    one that only restates its question, which the check never calls supported at any
    threshold (its verdict is `restates`)."""
    checker = SupportChecker(encoder, min_support=0.0)
    scores = []
    for statement in statements:
        passages = [
            Passage(n=p.n, title=p.heading or None, text=p.text, source="")
            for p in statement.passages
        ]
        check = checker.check_sentence(
            statement.sentence,
            [p.n for p in passages],
            CitedPassages(passages, encoder),
            statement.question,
        )
        scores.append(0.0 if check.verdict == "restates" else check.support or 0.0)
    return scores


@dataclass(frozen=True)
class Agreement:
    """The check's verdicts at one threshold against the labels. Precision is the share of
    sentences called supported that are; recall, the share of supported sentences called so.
    NaN when nothing was called supported (precision) or nothing is (recall)."""

    threshold: float
    statements: int
    precision: float
    recall: float
    accuracy: float
    unsupported_caught: float
    """Share of the unsupported statements the check flags: what a user is protected from."""

    @classmethod
    def at(cls, threshold: float, scores: Sequence[float], labels: Sequence[bool]) -> Agreement:
        called = [s >= threshold for s in scores]
        hits = sum(c and y for c, y in zip(called, labels, strict=True))
        negatives = labels.count(False)
        caught = sum(not c and not y for c, y in zip(called, labels, strict=True))
        return cls(
            threshold=threshold,
            statements=len(labels),
            precision=hits / sum(called) if any(called) else math.nan,
            recall=hits / sum(labels) if any(labels) else math.nan,
            accuracy=sum(c == y for c, y in zip(called, labels, strict=True)) / len(labels)
            if labels
            else math.nan,
            unsupported_caught=caught / negatives if negatives else math.nan,
        )


def calibrate(scores: Sequence[float], labels: Sequence[bool], target: float) -> float:
    """The lowest threshold (among the scores seen) whose precision reaches `target`; when none
    does, the one with the highest precision (ties: the lowest, keeping the most)."""
    candidates = sorted(set(scores))
    if not candidates:
        raise InvalidInput("no scores to calibrate on")
    agreements = [Agreement.at(t, scores, labels) for t in candidates]
    for agreement in agreements:
        if agreement.precision >= target:
            return agreement.threshold
    measured = [a for a in agreements if not math.isnan(a.precision)]
    return max(measured, key=lambda a: (a.precision, -a.threshold)).threshold


def evaluate_support(
    labels_path: Path, encoder: TextEncoder, out: Path, target: float, configured: float
) -> dict[str, Any]:
    statements = load_labels(labels_path)
    scores = support_scores(encoder, statements)
    dev = [(s, st.supported) for s, st in zip(scores, statements, strict=True) if st.dev]
    test = [(s, st.supported) for s, st in zip(scores, statements, strict=True) if not st.dev]
    if not dev or not test:
        raise InvalidInput(f"{labels_path}: too few statements for a dev and a test half")
    threshold = calibrate([s for s, _ in dev], [y for _, y in dev], target)
    rows = {}
    for name, part in (("dev", dev), ("test", test), ("all", dev + test)):
        part_scores, part_labels = [s for s, _ in part], [y for _, y in part]
        for label, t in (("calibrated", threshold), ("configured", configured)):
            rows[f"{name}, {label} {t:.3f}"] = Agreement.at(t, part_scores, part_labels).__dict__
    result = {
        "labels": str(labels_path),
        "statements": len(statements),
        "supported": sum(st.supported for st in statements),
        "target_precision": target,
        "calibrated_min_support": threshold,
        "configured_min_support": configured,
        "agreement": rows,
        "scores": [
            {"id": st.id, "dev": st.dev, "supported": st.supported, "score": s}
            for st, s in zip(statements, scores, strict=True)
        ],
        **provenance(),
    }
    write_json(out / "results.json", result)
    columns = ["statements", "precision", "recall", "accuracy", "unsupported_caught"]
    lines = [
        "# The support check against hand-labelled statements",
        "",
        f"{len(statements)} statements from `{labels_path}`, {result['supported']} supported. "
        f"`min_support` calibrated on the dev half for precision >= {target}: "
        f"**{threshold:.3f}** (configured now: {configured:.3f}).",
        "",
        markdown_table(rows, columns, "part, threshold"),
        "",
        f"Commit {result['git_commit']}, {result['date']}.",
        "",
    ]
    (out / "results.md").write_text("\n".join(lines))
    return result
