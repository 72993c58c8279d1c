"""Rank fusion, as pure functions over (id, score) lists that are sorted best first."""

from __future__ import annotations

from collections.abc import Sequence

Ranking = Sequence[tuple[str, float]]


def reciprocal_rank_fusion(rankings: Sequence[Ranking], k: int = 60) -> list[tuple[str, float]]:
    """RRF (Cormack et al. 2009): score(d) = Σ 1 / (k + rank_i(d)), ranks from 1.

    Ties keep the order in which ids were first seen, so results are deterministic.
    """
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, (doc_id, _) in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)


def min_max(ranking: Ranking) -> dict[str, float]:
    """Scores rescaled to [0, 1]; a ranking whose scores are all equal maps to 1."""
    if not ranking:
        return {}
    values = [score for _, score in ranking]
    low, high = min(values), max(values)
    span = high - low
    return {doc_id: (score - low) / span if span else 1.0 for doc_id, score in ranking}


def weighted_fusion(dense: Ranking, sparse: Ranking, alpha: float) -> list[tuple[str, float]]:
    """alpha · dense + (1 − alpha) · sparse, each min-max normalised; missing counts as 0."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be within [0, 1], got {alpha}")
    d, s = min_max(dense), min_max(sparse)
    # dict order is first-seen order and sorted() is stable, so ties stay deterministic
    fused = {i: alpha * d.get(i, 0.0) + (1 - alpha) * s.get(i, 0.0) for i in [*d, *s]}
    return sorted(fused.items(), key=lambda item: item[1], reverse=True)


def rank_blend(
    order: Sequence[str], scores: Sequence[float], weight: float
) -> list[tuple[str, float]]:
    """weight · score + (1 − weight) · position in `order`, each min-max normalised over the
    list. RRF over two orders weighs them equally; a blend lets a reranker weaker than the
    fused order break its near-ties without overturning its confident calls."""
    by_score = list(zip(order, scores, strict=True))
    by_position = [(doc_id, -float(rank)) for rank, doc_id in enumerate(order)]
    return weighted_fusion(by_score, by_position, weight)
