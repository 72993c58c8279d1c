"""Retrieval metrics as pure functions, matching trec_eval / BEIR conventions.

nDCG uses linear gain (the relevance grade itself) and log2(rank + 1) discounts, like
`pytrec_eval`'s ndcg_cut, which the published BEIR numbers come from. Only queries with at least
one relevant document count; with none at all the result is NaN, never a made-up score.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence

Qrels = Mapping[str, Mapping[str, int]]
"""query id -> document id -> relevance grade (> 0 is relevant)."""
Run = Mapping[str, Sequence[str]]
"""query id -> ranked document ids, best first."""


def first_occurrences(ranked: Iterable[str]) -> list[str]:
    """Ranked ids with repeats dropped: several chunks of one document count once, where the
    best of them ranked."""
    return list(dict.fromkeys(ranked))


def ndcg_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    gains = [relevant.get(doc, 0) for doc in ranked[:k]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains) if g > 0)
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else math.nan


def recall_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    wanted = {doc for doc, g in relevant.items() if g > 0}
    if not wanted:
        return math.nan
    return len(wanted.intersection(ranked[:k])) / len(wanted)


def mrr_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    if not any(g > 0 for g in relevant.values()):
        return math.nan
    for rank, doc in enumerate(ranked[:k], start=1):
        if relevant.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


METRICS = {"ndcg": ndcg_at_k, "recall": recall_at_k, "mrr": mrr_at_k}


def per_query(run: Run, qrels: Qrels, name: str) -> dict[str, float]:
    """One metric (e.g. "ndcg@10") for each judged query; a judged query missing from the run
    scores 0: no answer is a wrong answer."""
    metric, _, k = name.partition("@")
    if metric not in METRICS or not k.isdigit():
        raise ValueError(f"unknown metric {name!r}; use e.g. ndcg@10, recall@5, mrr@10")
    return {
        q: METRICS[metric](first_occurrences(run.get(q, [])), docs, int(k))
        for q, docs in qrels.items()
        if any(g > 0 for g in docs.values())
    }


def evaluate(run: Run, qrels: Qrels, metrics: Sequence[str]) -> dict[str, float]:
    """Mean of each metric (names like "ndcg@10", "recall@100") over the judged queries."""
    results: dict[str, float] = {}
    for name in metrics:
        scores = list(per_query(run, qrels, name).values())
        results[name] = sum(scores) / len(scores) if scores else math.nan
    return results


def paired_bootstrap_interval(
    a: Sequence[float], b: Sequence[float], resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95 % interval of mean(a - b) over queries resampled with replacement: whether a
    difference between two configs is larger than the luck of which queries were asked."""
    if len(a) != len(b) or not a:
        raise ValueError("paired scores need the same, non-empty list of queries")
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(diffs, k=len(diffs))) / len(diffs) for _ in range(resamples))
    return means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]
