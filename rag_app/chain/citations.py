"""Check the `[n]` citations an LLM wrote against the passages it was given."""

from __future__ import annotations

import re

from rag_app.types import Passage

# [1], [1, 2], [1,2,3]; also the [1-3] ranges small models like to write.
_CITATION = re.compile(r"(\s*)\[(\d+(?:\s*[,\-–]\s*\d+)*)\]")


def _numbers(group: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*,\s*", group):
        bounds = re.split(r"\s*[\-–]\s*", part)
        if len(bounds) == 2 and int(bounds[0]) <= int(bounds[1]) <= int(bounds[0]) + 10:
            numbers.extend(range(int(bounds[0]), int(bounds[1]) + 1))
        else:
            numbers.extend(int(b) for b in bounds)
    return numbers


def clean_citations(text: str, passages: list[Passage]) -> tuple[str, list[Passage]]:
    """Drop citation numbers that map to no passage; return the text and the cited passages.

    Valid groups are normalised to `[1][2]`, so every number is its own marker for the UI.
    """
    by_number = {p.n: p for p in passages}
    cited: dict[int, Passage] = {}

    def replace(match: re.Match[str]) -> str:
        valid = [n for n in dict.fromkeys(_numbers(match.group(2))) if n in by_number]
        for n in valid:
            cited.setdefault(n, by_number[n])
        # An all-invalid group goes with the space before it, so no "word ." is left behind.
        return match.group(1) + "".join(f"[{n}]" for n in valid) if valid else ""

    return _CITATION.sub(replace, text).strip(), [cited[n] for n in sorted(cited)]
