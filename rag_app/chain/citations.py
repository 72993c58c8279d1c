"""Check the `[n]` citations an LLM wrote against the passages it was given."""

from __future__ import annotations

import re
from typing import NamedTuple

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


class CheckedCitations(NamedTuple):
    text: str
    """The answer with invalid numbers removed and groups normalised to `[1][2]`."""
    cited: list[Passage]
    invalid: list[int]
    """Numbers the model wrote that map to no passage, in order of appearance (with repeats)."""


def clean_citations(text: str, passages: list[Passage]) -> CheckedCitations:
    """Drop citation numbers that map to no passage, keeping count of them (the evaluation's
    citation validity). Valid groups become `[1][2]`, so every number is its own UI marker."""
    by_number = {p.n: p for p in passages}
    cited: dict[int, Passage] = {}
    invalid: list[int] = []

    def replace(match: re.Match[str]) -> str:
        numbers = list(dict.fromkeys(_numbers(match.group(2))))
        valid = [n for n in numbers if n in by_number]
        invalid.extend(n for n in numbers if n not in by_number)
        for n in valid:
            cited.setdefault(n, by_number[n])
        # An all-invalid group goes with the space before it, so no "word ." is left behind.
        return match.group(1) + "".join(f"[{n}]" for n in valid) if valid else ""

    cleaned = _CITATION.sub(replace, text).strip()
    return CheckedCitations(cleaned, [cited[n] for n in sorted(cited)], invalid)
