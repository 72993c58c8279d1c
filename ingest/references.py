"""Reference lists (bibliographies) are left out of the search index.

A paper's reference list is a tenth of its chunks and a trap for every later stage: its
titles match questions word for word, so search ranks it high; an answer "supported" by an
entry ("GLM-130B is an open bilingual pre-trained model [1]", from a list citing that paper)
passes the support check while saying nothing the document claims; questions generated from
it ask about papers the collection does not hold.

PDF text carries no mark-up for the section, so it is recognised from what the chunk is made
of (`looks_like_references`), chunk by chunk in document order, and runs of pure author lists
are taken in where they sit next to recognised entries. Measured on child chunks of ARAGOG's
15 papers against hand-set section boundaries (`eval/results/references/`): 345 of 362
reference chunks found, none of the 1,432 others taken; on 38 PDFs from Debian packages
nobody here wrote (journal articles, manuals, reference cards) the lists of the articles are
found and no manual text is, and no SciFact abstract or FastAPI page is taken at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag_app.types import Chunk

_WORD = re.compile(r"[^\W\d_][\w\-'’]*")
_YEAR = re.compile(r"(?<![\d/\-])\b(?:19|20)\d\d[a-z]?\b(?![\-/.]\d)")
"""A year as references write it ("2019", "2019a"), not part of a date ("2019-07-12")."""
_BIBLIOGRAPHIC = re.compile(
    r"arXiv|preprint|Proceedings|Conference|Journal|Transactions|Workshop|Symposium"
    r"|Association for|\bpp\.|\bvol\.|\bpages\b|\bdoi\b|\bURL\b|https?://|\bIn\s[A-Z]"
    r"|\bPress\b|\beds?\."
)
_NAMES = (
    re.compile(r"(?<![\w.])[A-Z]\."),  # an initial: "J. Devlin", "Devlin, J."
    re.compile(r"\b[A-Z][a-z][\w\-'’]*\s+(?:[A-Z]\.?\s+)?[A-Z][a-z][\w\-'’]*,"),  # Jacob Devlin,
    re.compile(r"\b[A-Z][a-z][\w'’\-]*\s[A-Z]{1,3}(?=,|\s\(|\s(?:and|&)\s)"),  # Devlin J, (JSS)
)
_COPYRIGHT = re.compile(r"copyright|©|\(c\)", re.I)

_MIN_WORDS = 20
"""Fewer words than this say too little to decide alone (a page number, a venue's tail)."""
_NEIGHBOURS = 2
"""How far an author list or a short piece may sit from a recognised entry to join it."""


@dataclass(frozen=True)
class _Profile:
    words: int
    capitalised: float
    """Share of words starting with a capital: about 0.6 in reference lists, 0.1-0.3 in prose."""
    evidence: float
    """Years and bibliographic words (venues, pages, DOIs, URLs) per 100 words."""
    bibliographic: float
    names: float
    """Author names and initials per 100 words."""
    copyright: bool

    def entries(self) -> bool:
        """Thresholds set on ARAGOG's papers; each guards against a kind of text that was
        taken by a looser rule: related work dense with "(Devlin et al., 2019)" (years, no
        venues or author initials), copyright pages (lists of years), results tables
        (capitals, no years), and a manual's edition history (dates and one editor's name)."""
        return (
            self.words >= _MIN_WORDS
            and not self.copyright
            and self.capitalised >= 0.3
            and self.evidence >= 5
            and self.evidence + self.names >= 15
            and (self.bibliographic >= 2 or self.names >= 10)
        )

    def author_list(self) -> bool:
        """Long author lists run over whole chunks with no year or venue in them."""
        return self.names >= 30 and self.capitalised >= 0.75


def _profile(text: str) -> _Profile:
    words = _WORD.findall(text)
    n = max(len(words), 1)
    bibliographic = 100 * len(_BIBLIOGRAPHIC.findall(text)) / n
    return _Profile(
        words=len(words),
        capitalised=sum(w[0].isupper() for w in words) / n,
        evidence=100 * len(_YEAR.findall(text)) / n + bibliographic,
        bibliographic=bibliographic,
        names=100 * sum(len(p.findall(text)) for p in _NAMES) / n,
        copyright=_COPYRIGHT.search(text) is not None,
    )


def looks_like_references(text: str) -> bool:
    """Entries of a reference list, on their own (`_Profile.entries`)."""
    return _profile(text).entries()


def reference_flags(texts: Sequence[str]) -> list[bool]:
    """Which of a document's chunks, in document order, belong to its reference lists: those
    that look like entries, then, until nothing changes, author lists next to one, and short
    pieces between two or after the last."""
    profiles = [_profile(t) for t in texts]
    flags = [profile.entries() for profile in profiles]
    changed = True
    while changed:
        changed = False
        for i, profile in enumerate(profiles):
            if flags[i]:
                continue
            before = any(flags[max(0, i - _NEIGHBOURS) : i])
            after = any(flags[i + 1 : i + 1 + _NEIGHBOURS]) or i == len(texts) - 1
            short = profile.words < _MIN_WORDS
            if (profile.author_list() and (before or after)) or (short and before and after):
                flags[i] = changed = True
    return flags


def without_references(
    parents: list[Chunk], children: list[Chunk]
) -> tuple[list[Chunk], list[Chunk], int]:
    """A document's chunks with its reference-list children removed, and parents left with no
    child (nothing would ever lead to them); and how many children went."""
    flags = reference_flags([c.text for c in children])
    kept = [c for c, flag in zip(children, flags, strict=True) if not flag]
    if len(kept) == len(children):
        return parents, children, 0
    wanted = {c.parent_id for c in kept}
    return [p for p in parents if p.id in wanted], kept, len(children) - len(kept)
