"""`rag eval compare`: whether two `rag eval answers` runs over the same questions differ by more
than the luck of which questions were asked.

Thirty questions make every mean noisy; a difference of means says nothing until it is set
against that noise. Each metric is paired by question (only questions both runs measured, NaN
left out rather than counted as 0), and the 95 % paired-bootstrap interval of the mean
difference is reported: an interval that holds 0 is "no difference measured".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.answers import CHECKS, RAGAS_METRICS, latest_records
from eval.report import markdown_table
from rag_app.errors import InvalidInput
from rag_app.retrieval.metrics import paired_bootstrap_interval

Extract = Callable[[Mapping[str, Any]], float]


def _score(name: str) -> Extract:
    return lambda record: float((record.get("scores") or {}).get(name, math.nan))


def _first_token(record: Mapping[str, Any]) -> float:
    return float((record.get("timings") or {}).get("first_token", math.nan))


def _abstained(record: Mapping[str, Any]) -> float:
    return float(bool(record.get("abstained")))


# (metric, which questions, how to read it). Latency is paired too: the same question's prompt
# is as long under both runs only when the budgets match.
METRICS: tuple[tuple[str, bool, Extract], ...] = (
    *((name, True, _score(name)) for name in (*RAGAS_METRICS, *CHECKS)),
    ("first_token_s", True, _first_token),
    ("abstained (unanswerable)", False, _abstained),
)


@dataclass(frozen=True)
class MetricDifference:
    metric: str
    questions: int
    baseline: float
    other: float
    low: float
    high: float

    @property
    def difference(self) -> float:
        return self.other - self.baseline

    @property
    def measured(self) -> bool:
        """The interval excludes 0: the runs differ beyond question-sampling noise."""
        return self.low > 0 or self.high < 0


def _run(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / "answers.jsonl"
    if not path.is_file():
        raise InvalidInput(f"{folder}: no answers.jsonl (not a `rag eval answers --out` folder)")
    return latest_records(path)


def compare_runs(baseline: Path, other: Path, seed: int = 0) -> list[MetricDifference]:
    """Every metric both runs measured on at least two shared questions."""
    a, b = _run(baseline), _run(other)
    shared = [qid for qid in a if qid in b]
    if not shared:
        raise InvalidInput(f"{baseline} and {other} share no question")
    rows = []
    for metric, answerable, extract in METRICS:
        pairs = [
            (extract(a[qid]), extract(b[qid]))
            for qid in shared
            if bool(a[qid].get("answerable")) == answerable
        ]
        pairs = [(x, y) for x, y in pairs if not (math.isnan(x) or math.isnan(y))]
        if len(pairs) < 2:
            continue
        xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
        low, high = paired_bootstrap_interval(ys, xs, seed=seed)
        rows.append(
            MetricDifference(metric, len(pairs), sum(xs) / len(xs), sum(ys) / len(ys), low, high)
        )
    return rows


def comparison_table(rows: list[MetricDifference], baseline: str, other: str) -> str:
    """Four decimals throughout: seconds and scores side by side, none rounded to an integer."""
    table = {
        row.metric: {
            "questions": row.questions,
            baseline: f"{row.baseline:.4f}",
            other: f"{row.other:.4f}",
            "difference": f"{row.difference:+.4f}",
            "95 % interval": f"[{row.low:+.4f}, {row.high:+.4f}]",
            "beyond noise": "yes" if row.measured else "no",
        }
        for row in rows
    }
    columns = ["questions", baseline, other, "difference", "95 % interval", "beyond noise"]
    return markdown_table(table, columns, "metric")
