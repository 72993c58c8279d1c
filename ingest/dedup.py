"""Near-duplicate children: boilerplate repeated across files is stored and searched once.

A child whose vector is at least `threshold` cosine-similar to a stored child, or to an earlier
child of the same batch, becomes a duplicate of it: it keeps its row (and so its source) in the
state, but gets no vector and no BM25 entry, so repeated text cannot crowd out the results.
"""

from __future__ import annotations

import re

import numpy as np

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _numbers(text: str) -> list[str]:
    return sorted(_NUMBER.findall(text))


def mark_duplicates(
    texts: list[str],
    ids: list[str],
    vectors: np.ndarray,
    nearest_stored: list[tuple[str, float, str] | None],
    threshold: float,
    identical_stored: dict[str, str] | None = None,
) -> list[str | None]:
    """For each child, the id of the canonical child it duplicates, or None if it is new.

    `vectors` are L2-normalised; `nearest_stored[i]` is the closest stored child of another
    document as (id, similarity, text); `identical_stored` maps a text to a stored child of
    another document with exactly that text (identical text is a duplicate whatever its
    heading path, which is embedded too and so lowers the cosine). Two texts whose numbers
    differ are never duplicates, however close their vectors: "widget 7" and "widget 8" embed
    almost alike but are different facts. Within the batch only earlier canonicals can be
    pointed to, so every duplicate points at a child that has a vector. A threshold above 1
    switches deduplication off.
    """
    if threshold > 1.0:
        return [None] * len(ids)
    numbers = [_numbers(t) for t in texts]
    similarities = vectors @ vectors.T if len(ids) else np.zeros((0, 0))
    canonical_of: list[str | None] = []
    kept: list[int] = []
    identical = identical_stored or {}
    for i in range(len(ids)):
        stored = nearest_stored[i]
        if texts[i] in identical:
            canonical_of.append(identical[texts[i]])
            continue
        if stored is not None and stored[1] >= threshold and _numbers(stored[2]) == numbers[i]:
            canonical_of.append(stored[0])
            continue
        match = next(
            (
                j
                for j in kept
                if texts[j] == texts[i]
                or (similarities[i, j] >= threshold and numbers[j] == numbers[i])
            ),
            None,
        )
        canonical_of.append(ids[match] if match is not None else None)
        if match is None:
            kept.append(i)
    return canonical_of
