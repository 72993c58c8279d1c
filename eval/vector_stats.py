"""Pure maths of the retrieval diagnostics, on NumPy arrays of embeddings.

Vectors are rows. Functions that speak of cosine similarity normalise first, so they hold for
any input, and agree with Chroma's cosine space on the unit vectors rag_app stores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from rag_app.errors import InvalidInput


def normalise(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; an all-zero row stays zero rather than becoming NaN."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def truncate(matrix: np.ndarray, dims: int) -> np.ndarray:
    """The first `dims` components, re-normalised: a Matryoshka-style shortened embedding."""
    if not 0 < dims <= matrix.shape[1]:
        raise ValueError(f"cannot truncate {matrix.shape[1]}-d vectors to {dims} dimensions")
    return normalise(matrix[:, :dims])


def mean_pairwise_cosine(matrix: np.ndarray) -> float:
    """Mean cosine over all distinct pairs (anisotropy: 0 for directions spread evenly, near 1
    when every vector points one way), exactly and in O(n d): for unit rows the sum over all
    ordered pairs is |sum of rows|^2, of which n is the diagonal."""
    unit = normalise(matrix).astype(np.float64)
    n = len(unit)
    if n < 2:
        return math.nan
    total = unit.sum(axis=0)
    diagonal = float((unit * unit).sum())
    return float((total @ total - diagonal) / (n * (n - 1)))


def exact_top_k(
    corpus: np.ndarray,
    queries: np.ndarray,
    k: int,
    exclude_self: bool = False,
    block: int = 1024,
) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force cosine top-k: (indices, similarities), each (queries, k), best first.
    `exclude_self` is for queries that are the corpus itself (row i never finds row i)."""
    corpus, queries = normalise(corpus), normalise(queries)
    k = min(k, len(corpus) - (1 if exclude_self else 0))
    indices = np.empty((len(queries), k), dtype=np.int64)
    sims = np.empty((len(queries), k), dtype=np.float32)
    for start in range(0, len(queries), block):
        scores = queries[start : start + block] @ corpus.T
        if exclude_self:
            rows = np.arange(len(scores))
            scores[rows, rows + start] = -np.inf
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(scores, top, axis=1)
        order = np.argsort(-top_scores, axis=1, kind="stable")
        indices[start : start + block] = np.take_along_axis(top, order, axis=1)
        sims[start : start + block] = np.take_along_axis(top_scores, order, axis=1)
    return indices, sims


def recall_against_exact(
    approximate: Sequence[Sequence[str]], exact: Sequence[Sequence[str]], k: int
) -> float:
    """Mean share of the exact top-k that the approximate search also returned in its top-k."""
    if len(approximate) != len(exact):
        raise ValueError("one approximate and one exact result list per query are needed")
    shares = [
        len(set(a[:k]) & set(e[:k])) / min(k, len(e))
        for a, e in zip(approximate, exact, strict=True)
        if e
    ]
    return sum(shares) / len(shares) if shares else math.nan


def k_occurrence(neighbours: np.ndarray, n: int) -> np.ndarray:
    """How often each of the n points appears in the others' neighbour lists (N_k)."""
    return np.bincount(np.asarray(neighbours).ravel(), minlength=n)


def skewness(values: np.ndarray) -> float:
    """Population skewness (third standardised moment), the usual hubness score: near 0 for
    a symmetric k-occurrence distribution, large and positive when a few hubs sit in many
    neighbour lists."""
    x = np.asarray(values, dtype=np.float64)
    centred = x - x.mean()
    variance = float((centred**2).mean())
    if variance == 0.0:
        return 0.0
    return float((centred**3).mean() / variance**1.5)


def share_at_least(values: np.ndarray, threshold: float) -> float:
    """Share of values >= threshold (e.g. chunks whose nearest neighbour is a near-duplicate)."""
    values = np.asarray(values)
    return float((values >= threshold).mean()) if values.size else math.nan


def pca_2d(matrix: np.ndarray) -> np.ndarray:
    """Projection on the two leading principal components (centred SVD)."""
    centred = np.asarray(matrix, dtype=np.float64) - np.asarray(matrix).mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T


def synthetic_neighbours(base: np.ndarray, n: int, noise: float, seed: int) -> np.ndarray:
    """n unit vectors drawn around random rows of `base` (Gaussian noise of norm ~`noise`),
    so a larger collection keeps the real embeddings' shape instead of uniform noise, on
    which HNSW behaves unlike on text."""
    rng = np.random.default_rng(seed)
    picked = normalise(base)[rng.integers(0, len(base), n)]
    jitter = rng.standard_normal(picked.shape).astype(np.float32) * (
        noise / math.sqrt(base.shape[1])
    )
    return normalise(picked + jitter)


def cheapest_passing(
    rows: Mapping[str, Mapping[str, float]], target: float, metric: str, cost: str
) -> str | None:
    """The row with the lowest `cost` among those whose `metric` reaches `target`."""
    passing = [name for name, row in rows.items() if row[metric] >= target]
    return min(passing, key=lambda name: rows[name][cost]) if passing else None


def abstention_threshold(answerable: Sequence[float], keep: float) -> float:
    """The highest score threshold that still lets through at least `keep` of the answerable
    questions' scores (a question is answered when its score >= the threshold)."""
    if not answerable:
        raise InvalidInput("no answerable scores to set a threshold from")
    if not 0.0 < keep <= 1.0:
        raise InvalidInput(f"keep must be in (0, 1], not {keep}")
    ordered = sorted(answerable, reverse=True)
    return float(ordered[math.ceil(keep * len(ordered)) - 1])


def balanced_accuracy(
    answerable: Sequence[float], unanswerable: Sequence[float], t: float
) -> float:
    """Mean of the share of answerable scores kept (>= t) and unanswerable refused (< t)."""
    kept = sum(s >= t for s in answerable) / len(answerable)
    refused = sum(s < t for s in unanswerable) / len(unanswerable)
    return (kept + refused) / 2
