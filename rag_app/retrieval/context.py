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
    anchor = parent.find(child[:200])
    centre = anchor + len(child) // 2 if anchor >= 0 else 0
    chars = len(parent)
    while True:
        # Characters per token vary along a text, so a cut sized by the parent's average can
        # run over: shrink it until it fits.
        chars = max(1, min(chars - 1, int(chars * max_tokens / total)))
        piece = _cut(parent, centre, chars)
        total = count_tokens(piece)
        if total <= max_tokens or chars == 1:
            return piece


def _cut(parent: str, centre: int, chars: int) -> str:
    """`chars` characters of `parent` centred on `centre`, trimmed to whole words."""
    start = max(0, min(centre - chars // 2, len(parent) - chars))
    piece = parent[start : start + chars]
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
    passage_tokens: int | None = None,
) -> list[Passage]:
    """Numbered passages, best hit first; a parent shared by several hits appears once.

    `passage_tokens` caps each passage (None: only the budget does). Uncapped, the best hit's
    window grew to fill the whole budget and the LLM read one passage: on ARAGOG's 30 sampled
    questions (budget 256) a median of one, holding half or more of the reference answer's
    words for 12; capped at 192 within 512, a median of three, 22 (`eval/results/context`)."""
    parent_ids = [h.chunk.parent_id for h in hits if h.chunk.parent_id]
    found = parents.get_many(parent_ids) if parents and parent_ids else {}
    passages: list[Passage] = []
    seen: set[str] = set()
    remaining = budget_tokens
    for hit in hits:
        unit: Chunk = found.get(hit.chunk.parent_id or "", hit.chunk)
        if unit.id in seen or remaining <= 0:
            continue
        room = min(remaining, passage_tokens or remaining)
        text = window_around(unit.text, hit.chunk.text, room, count_tokens)
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
