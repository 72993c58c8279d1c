"""Whether what retrieval found mentions what the question is about: its key terms (the names,
products, model names, dates and figures) and, weighted by how rare each is, its other words.

A dense score cannot tell "Apple's revenue" from "Intel's revenue": both sit close to an Intel
filing. A key term that appears in none of the passages read (nor their titles, headings or file
names) is the plainest evidence that the documents do not cover the question, and it can be
named to the user ("they do not mention Apple"). A short, vague question ("How do I install
it?") has no key term and a low dense score, but its one word is in the passages: word coverage
lets it through where the cosine alone refused it. Pure functions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from rag_app.text import WORD, content_words, stems, stop_words

if TYPE_CHECKING:
    from rag_app.protocols import Vocabulary

_EDGE = "\"'`“”‘’()[]{}<>,;:!?.*_"
_POSSESSIVE = re.compile(r"['’]s?$")
_SENTENCE_END = (".", "?", "!", ":")
_YEAR = re.compile(r"(1[5-9]|20)\d\d")


def _is_key(word: str, first: bool) -> bool:
    """A word a question is about, by its form alone (no model, no vocabulary):
    - any digit with a letter or a separator: model names, versions, quarters, decimals
      (GLM-130B, GPT-3.5, Q3, 10-Q, 4.5) and years; a bare count ("top 3") is not one;
    - an acronym (two or more capitals: NVIDIA, MMLU) or an inner capital (FastAPI, iPhone);
    - a capitalised word that does not start a sentence (Apple, Monday). The first word is
      capitalised by grammar, so it counts only by the two rules above.
    Words of one letter ("I") are never key terms."""
    if any(c.isdigit() for c in word):
        return not word.isdigit() or bool(_YEAR.fullmatch(word))
    letters = [c for c in word if c.isalpha()]
    if len(letters) < 2:
        return False
    if all(c.isupper() for c in letters):
        return True
    if any(c.isupper() for c in word[1:]):
        return True
    return not first and word[:1].isupper()


def _core(word: str, first: bool) -> str:
    """A hyphenated key term without its lower-case parts ("BERT-like" is "BERT", "GPT-3-based"
    is "GPT-3"), when what is left is still a key term: the name is what a passage must hold,
    and it writes "BERT-style" where the question wrote "BERT-like" (seen on ARAGOG, where the
    support check refused a right answer for it). "130-billion-parameter" stays whole: "130"
    alone is a bare count."""
    parts = word.split("-")
    kept = [p for p in parts if not (p.isalpha() and p.islower())]
    core = "-".join(kept)
    return core if kept and len(kept) < len(parts) and _is_key(core, first) else word


def key_terms(question: str) -> list[str]:
    """The question's key terms in order of first appearance, each once (case-insensitive),
    with surrounding punctuation, a possessive "'s" and lower-case compound parts removed."""
    terms: dict[str, str] = {}
    first = True
    for raw in re.split(r"\s+|(?<=\w)[,/](?=\w)", question.strip()):
        word = _POSSESSIVE.sub("", raw.strip(_EDGE)).strip(_EDGE)
        if word and WORD.search(word) and _is_key(word, first):
            word = _core(word, first)
            terms.setdefault(word.lower(), word)
        first = raw.endswith(_SENTENCE_END)
    return list(terms.values())


def _pattern(term: str) -> re.Pattern[str]:
    """The term's alphanumeric pieces in order, separated by anything or nothing ("GLM-130B"
    meets "GLM 130B" and "GLM130B"), starting at a word boundary. A term ending in a digit
    must not run on into another digit ("GPT-3" is not "GPT-35"); one ending in a letter may
    take a suffix ("Apple" meets "Apples")."""
    pieces = WORD.findall(term.lower())
    tail = r"(?!\d)" if pieces[-1][-1].isdigit() else ""
    return re.compile(r"(?<![^\W_])" + r"[\W_]*".join(map(re.escape, pieces)) + tail)


def missing_terms(terms: Iterable[str], texts: Iterable[str]) -> list[str]:
    """The terms that occur in none of `texts`, in the order given. A one-word term also counts
    as present by its stem ("Mondays" is present where "Monday" is)."""
    haystack = "\n".join(texts).lower()
    stemmed: set[str] | None = None
    missing = []
    for term in terms:
        if _pattern(term).search(haystack):
            continue
        pieces = WORD.findall(term)
        if len(pieces) == 1 and pieces[0].isalpha():
            if stemmed is None:
                stemmed = set(stems(WORD.findall(haystack)))
            if stems(pieces)[0] in stemmed:
                continue
        missing.append(term)
    return missing


_CONTRACTION = re.compile(r"['’](?:s|t|re|ve|ll|d|m)\b", re.IGNORECASE)
_QUESTION_WORDS = (
    "how what why when where which who whom whose do does did doing done can could would "
    "should shall may might must i me my mine we us our you your it its is are was were be "
    "been being am has have had having there here get got make made use used way ways thing"
)


@lru_cache(maxsize=1)
def _asking_words() -> frozenset[str]:
    """Words that say a question is being asked, not what it is about."""
    return frozenset(stems(_QUESTION_WORDS.split()))


def question_words(question: str) -> set[str]:
    """The stemmed words a question is about: content words without the asking ones."""
    return content_words(_CONTRACTION.sub("", question)) - _asking_words()


def word_coverage(
    words: set[str], texts: Iterable[str], document_frequency: Mapping[str, int], documents: int
) -> float:
    """The share of the question's words found in `texts`, each weighted by its BM25 idf in
    the collection, so a rare word ("sourdough", absent from a software manual) counts for
    far more than a common one ("work"). 1.0 for a question with no such word: nothing of it
    is missing."""

    def idf(word: str) -> float:
        df = document_frequency.get(word, 0)
        return math.log(1 + (documents - df + 0.5) / (df + 0.5))

    total = sum(idf(w) for w in words)
    if not total:
        return 1.0
    found = words & content_words("\n".join(texts))
    return sum(idf(w) for w in found) / total


def passing_mentions(
    question: str,
    sources: Iterable[str],
    children: Callable[[str], Sequence[str]],
    names: Iterable[str],
    frequency: Callable[[str], int],
    min_share: float,
) -> list[str]:
    """The question's subject, when the documents `sources` (each read as its children's
    texts, only if the names leave the question open) only mention it in passing; [] when
    they are about it, or the question names no subject.

    To "What are the main components of GLM-130B's pre-training objective?" a red-teaming
    paper that ran GLM-130B as a baseline backs "The models deploy two SOTA LLMs as
    baselines, InstructGPT (davinci v2) and GLM (130b) [1]": true, and no answer; the model
    invented the rest. The papers 97 of ARAGOG's 98 own questions were written from hold the
    question's rarest name in their title (`names`: titles, headings, file names) or in at
    least 12 % of their children (GPT-3 in the MMLU paper, 22 %); the red-teaming paper holds
    GLM-130B in 3 % (eval/results/passing).

    The subject is the rarest (by `frequency`, children of the whole collection holding it)
    of the key terms that start with a letter: names, products and models are what a
    document is about, while figures and dates are details (the support check tests those).
    The rarest, because a common one is named in passing everywhere: "What does GLM-130B
    offer the open-source AI community?" finds "AI" in 20 % of the red-teaming paper. A
    subject term in `names` makes the documents about the question, whatever its rarity."""
    subjects = [t for t in key_terms(question) if t[:1].isalpha()]
    documents = list(sources)
    if not (subjects and documents) or len(missing_terms(subjects, names)) < len(subjects):
        return []
    counts = {t: frequency(t) for t in subjects}
    rarest = [t for t in subjects if counts[t] == min(counts.values())]
    patterns = [_pattern(term) for term in rarest]
    for source in documents:
        texts = [text.lower() for text in children(source)]
        for pattern in patterns:
            found = sum(bool(pattern.search(text)) for text in texts)
            if texts and found >= min_share * len(texts):
                return []
    return rarest


def term_frequency(vocabulary: Vocabulary) -> Callable[[str], int]:
    """How many children of the collection hold a term, at most: its rarest word's count.
    Words BM25 does not index (one character, stop words) say nothing of it."""

    def frequency(term: str) -> int:
        words = [w for w in WORD.findall(term.lower()) if len(w) > 1 and w not in stop_words()]
        found = vocabulary.document_frequencies(stems(words)) if words else {}
        return min(found.values(), default=vocabulary.documents)

    return frequency
