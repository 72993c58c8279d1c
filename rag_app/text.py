"""Word-level text handling shared by the checks that compare a question or an answer with
passages: one stemmer and one stop-word list, the same ones BM25 indexes with, so "mondays"
in a question meets "Monday" in a passage exactly as search sees it."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

WORD = re.compile(r"[^\W_]+", re.UNICODE)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def stems(words: list[str]) -> list[str]:
    return list(_stemmer().stemWords([w.lower() for w in words]))


def content_words(text: str) -> set[str]:
    """Stemmed words of `text` without stop words and bare numbers."""
    words = [w for w in WORD.findall(text.lower()) if w not in stop_words() and not w.isdigit()]
    return set(stems(words))
