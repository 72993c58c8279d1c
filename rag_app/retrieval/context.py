"""Parent expansion: the LLM reads each hit's parent section, once, within a token budget."""

from __future__ import annotations

from collections.abc import Callable

from rag_app.protocols import ParentStore
from rag_app.types import Chunk, Passage, ScoredChunk

CountTokens = Callable[[str], int]

MIN_WINDOW_TOKENS = 32
"""A parent cut smaller than this is left out: once the budget is nearly spent, the next
parents arrived as a few words ("precautions", "(Hendrycks", "this work"), which the model
then cited for claims they cannot hold (seen on ARAGOG at a 256-token budget)."""


def window_around(parent: str, child: str, max_tokens: int, count_tokens: CountTokens) -> str:
    """The part of `parent` around `child` that fits `max_tokens`.

    Cutting a long parent from its start would often drop the very sentences that matched;
    centring on the child keeps them and their surroundings.
    """
    total = count_tokens(parent)
    if total <= max_tokens:
        return parent
    chars = max(1, int(len(parent) * max_tokens / total))
    anchor = parent.find(child[:200])
    centre = anchor + len(child) // 2 if anchor >= 0 else 0
    start = max(0, min(centre - chars // 2, len(parent) - chars))
    piece = parent[start : start + chars]
    # Trim to whole words at the cut edges.
    if start > 0:
        piece = piece.split(" ", 1)[-1]
    if start + chars < len(parent):
        piece = piece.rsplit(" ", 1)[0]
    return piece.strip()


def build_passages(
    hits: list[ScoredChunk],
    parents: ParentStore | None,
    budget_tokens: int,
    count_tokens: CountTokens,
) -> list[Passage]:
    """Numbered passages, best hit first; a parent shared by several hits appears once."""
    parent_ids = [h.chunk.parent_id for h in hits if h.chunk.parent_id]
    found = parents.get_many(parent_ids) if parents and parent_ids else {}
    passages: list[Passage] = []
    seen: set[str] = set()
    remaining = budget_tokens
    for hit in hits:
        unit: Chunk = found.get(hit.chunk.parent_id or "", hit.chunk)
        if unit.id in seen or remaining <= 0:
            continue
        text = window_around(unit.text, hit.chunk.text, remaining, count_tokens)
        size = count_tokens(text)
        if text != unit.text and size < MIN_WINDOW_TOKENS:
            continue  # a shorter parent further down may still fit whole
        seen.add(unit.id)
        remaining -= size
        passages.append(
            Passage(
                n=len(passages) + 1,
                text=text,
                source=unit.source,
                title=unit.title,
                section=unit.section,
                page=unit.page,
                score=hit.score,
                also_in=[s for s in hit.also_in if s != unit.source],
                chunk_id=unit.id,
            )
        )
    return passages
