"""How well each sentence of an answer is backed by the passages it cites, from fast local
signals, so an unsupported sentence is marked (or dropped) before the user relies on it.

Per sentence:
- **figures**: every number in the sentence (9, 14, 2023, 9:30, 4.5) must occur in a cited
  passage; one that occurs in none is the surest sign of an invented or borrowed fact, and
  makes the sentence unsupported whatever the other signals say;
- **words**: the share of the sentence's content words (stemmed, stop words out) found in the
  cited passages;
- **meaning**: the bi-encoder's best cosine between the sentence and a sentence of the cited
  passages (paraphrases that share few words).

- **names**: likewise every key term of the sentence (a name, model, product: what
  `retrieval/coverage.py` finds in a question) must occur in a cited passage or its heading;
  "GLM-130B" written over a passage about another model is borrowed, not supported.

The score is the mean of the meaning and words signals, or 0 when a figure or name is
missing. A sentence that cites nothing is `uncited`. Thresholds are settings (`min_support`);
a cross-encoder trained for the collection is a further signal this module leaves to the
zero-label tuning work.
"""

from __future__ import annotations

import re

import numpy as np

from rag_app.protocols import TextEncoder
from rag_app.retrieval.coverage import key_terms, missing_terms
from rag_app.text import content_words
from rag_app.types import Passage, SentenceCheck

# A sentence ends at . ! or ? followed by space and a capital, digit, quote or markup (an image,
# a tag, a link: never part of the sentence before it). Citation markers
# written after the stop ("A. [1] B.") are moved before it first, so they stay with their
# sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(`*!<\[])")
_MARKERS_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\d+\])+)")
_MARKER = re.compile(r"\s*\[(\d+)\]")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")


_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "al.", "fig.", "dr.", "mr.", "ms.")


def split_sentences(text: str) -> list[str]:
    text = _MARKERS_AFTER_STOP.sub(r"\2\1", text.strip())
    sentences: list[str] = []
    for piece in (p.strip() for p in _SENTENCE_END.split(text)):
        if sentences and sentences[-1].lower().endswith(_ABBREVIATIONS):
            sentences[-1] += " " + piece  # "e.g. 10 am" is one sentence
        elif piece:
            sentences.append(piece)
    return sentences


def cited_numbers(sentence: str) -> list[int]:
    return list(dict.fromkeys(int(n) for n in _MARKER.findall(sentence)))


def without_markers(sentence: str) -> str:
    return _MARKER.sub("", sentence).strip()


def _forms(number: str) -> tuple[str, list[str]]:
    """A number as a whole ("1,000" as "1000") and its parts ("9:30" as "9", "30")."""
    whole = number.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", number) else number
    return whole, re.split(r"[.,:]", number)


def figures(text: str) -> set[str]:
    """Every number of `text` as a whole and by its parts, so "9 am" is backed by "9:00" and
    "9.30" by "9:30"; `missing_figures` also lets "2:00" be backed by "2", an all-zero part
    adding nothing."""
    found = set()
    for number in _NUMBER.findall(text):
        whole, parts = _forms(number)
        found.update([whole, *parts])
    return found


def missing_figures(sentence: str, passages: list[str]) -> list[str]:
    backed = set().union(*(figures(p) for p in passages)) if passages else set()
    missing = []
    for number in _NUMBER.findall(sentence):
        whole, parts = _forms(number)
        significant = [p for p in parts if p.strip("0")]  # 2:00 is 2
        if whole not in backed and not all(p in backed for p in significant):
            missing.append(number)
    return list(dict.fromkeys(missing))


class SupportChecker:
    """Checks an answer's sentences against the passages they cite."""

    def __init__(self, encoder: TextEncoder, min_support: float) -> None:
        self.encoder = encoder
        self.min_support = min_support

    def check(self, text: str, passages: list[Passage]) -> list[SentenceCheck]:
        by_number = {p.n: p.text for p in passages}
        headings = {p.n: f"{p.heading} {p.source}" for p in passages}
        encoded: dict[int, np.ndarray] = {}  # each cited passage's sentences, encoded once

        def sentence_vectors(n: int) -> np.ndarray:
            if n not in encoded:
                passage = by_number[n]
                encoded[n] = self.encoder.encode_passages(split_sentences(passage) or [passage])
            return encoded[n]

        checks = []
        for sentence in split_sentences(text):
            plain = without_markers(sentence)
            cited = [n for n in cited_numbers(sentence) if n in by_number]
            if not cited:
                checks.append(SentenceCheck(text=plain, verdict="uncited"))
                continue
            sources = [by_number[n] for n in cited]
            named = [headings[n] for n in cited]
            missing = missing_figures(plain, sources)
            missing += [  # names; numbers were checked above, by their own rules
                t
                for t in missing_terms(key_terms(plain), sources + named)
                if t not in missing and not t.isdigit()
            ]
            words = content_words(plain)
            backed_words = set().union(*(content_words(s) for s in sources))
            lexical = len(words & backed_words) / len(words) if words else 1.0
            score = 0.0
            if not missing:
                candidates = np.vstack([sentence_vectors(n) for n in cited])
                meaning = np.max(candidates @ self.encoder.encode_passages([plain])[0])
                score = (lexical + float(np.clip(meaning, 0.0, 1.0))) / 2
            checks.append(
                SentenceCheck(
                    text=plain,
                    citations=cited,
                    support=round(score, 4),
                    verdict="supported" if score >= self.min_support else "unsupported",
                    missing=missing,
                )
            )
        return checks
