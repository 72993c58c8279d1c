"""How well each sentence of an answer is backed by the passages it cites, from fast local
signals, so an unsupported sentence is marked (or dropped) before the user relies on it.

Per sentence:
- **figures**: every number in the sentence (9, 14, 2023, 9:30, 4.5) must occur in a cited
  passage; one that occurs in none is the surest sign of an invented or borrowed fact, and
  makes the sentence unsupported whatever the other signals say;
- **words**: the share of the sentence's content words (stemmed, stop words out) found in the
  cited passages;
- **meaning**: the bi-encoder's best cosine between the sentence and a sentence of the cited
  passages (paraphrases that share few words);
- **names**: likewise every key term of the sentence (a name, model, product: what
  `retrieval/coverage.py` finds in a question) must occur in a cited passage or its heading;
  "GLM-130B" written over a passage about another model is borrowed, not supported.

The score is the mean of the meaning and words signals, or 0 when a figure or name is
missing. A sentence that cites nothing is `uncited`; one that would pass but holds no content
word the question did not already hold `restates` it ("Megatron-LM achieved a record-setting
performance in terms of parameter count [1]" to "What record-setting performance did
Megatron-LM achieve in terms of parameter count?"): backed by its passage, yet it tells the
user nothing, the empty answer the trust issue saw cited as if it were one. The threshold is a
setting (`min_support`, calibrated by `rag eval support` on hand-labelled sentences); a
cross-encoder trained for the collection is a further signal this module leaves to the
zero-label tuning work.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from rag_app.protocols import TextEncoder
from rag_app.retrieval.coverage import key_terms, missing_terms
from rag_app.text import content_words
from rag_app.types import Passage, SentenceCheck, Verdict

# A sentence ends at . ! or ? followed by space and a capital, digit, quote or markup (an image,
# a tag, a link: never part of the sentence before it). Citation markers
# written after the stop ("A. [1] B.") are moved before it first, so they stay with their
# sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(`*!<\[])")
_MARKERS_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\d+\])+)")
_MARKER = re.compile(r"\s*\[(\d+)\]")
# A figure starts a token or follows a sign: the digit in "Task2Vec" or "Q3" is part of a name
# (the names check covers those), and counting it alone refused a right answer about Task2Vec.
_NUMBER = re.compile(r"(?<![^\W\d_])\d+(?:[.,:]\d+)*")


# A word of two letters or more: a sentence without one is a fragment, not a statement.
_WORD = re.compile(r"[^\W\d_]{2,}")

_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "al.", "fig.", "dr.", "mr.", "ms.")


_HEADING = re.compile(r"#{1,6}\s")


def _blocks(text: str) -> list[str]:
    """`text` cut at blank lines and around Markdown heading lines: a heading has no stop, and
    glued to the sentence after it ("## Submission deadline\nClaims for each month ...") it
    gave that sentence capitalised words that read as names."""
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        heading = bool(_HEADING.match(line.lstrip()))
        if heading or not line.strip():
            blocks.append([])
        blocks[-1].append(line)
        if heading:
            blocks.append([])
    return [joined for block in blocks if (joined := "\n".join(block).strip())]


def split_sentences(text: str) -> list[str]:
    sentences: list[str] = []
    for block in _blocks(_MARKERS_AFTER_STOP.sub(r"\2\1", text.strip())):
        for index, piece in enumerate(p.strip() for p in _SENTENCE_END.split(block)):
            if index and sentences[-1].lower().endswith(_ABBREVIATIONS):
                sentences[-1] += " " + piece  # "e.g. 10 am" is one sentence
            elif piece:
                sentences.append(piece)
    return sentences


def cited_numbers(sentence: str) -> list[int]:
    return list(dict.fromkeys(int(n) for n in _MARKER.findall(sentence)))


def without_markers(sentence: str) -> str:
    return _MARKER.sub("", sentence).strip()


def with_markers(sentence: str, numbers: list[int]) -> str:
    """`sentence` (without markers) citing `numbers`, the markers before its stop."""
    markers = "".join(f"[{n}]" for n in numbers)
    if not markers:
        return sentence
    if sentence.endswith((".", "!", "?")):
        return f"{sentence[:-1]} {markers}{sentence[-1]}"
    return f"{sentence} {markers}"


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


# Words that turn a question into a statement ("When should I ...?" -> "You should ...") or
# announce an answer without giving it ("... differs from previous methods in several ways"),
# and carry none; BM25's stop-word list, which content_words uses, is too short to hold them.
_RESTATING = (
    "i me my we our you your he she him her his its them what when where which who whom whose "
    "why how do does did can could should would may might must shall has have had been being "
    "were several various many number some way ways aspects respects following"
)


_POLARITY = re.compile(r"\b(?:yes|no|not|never|none|nothing|cannot)\b|n't\b", re.IGNORECASE)


def _polarity(text: str) -> set[str]:
    return {word.lower() for word in _POLARITY.findall(text)}


@lru_cache(maxsize=1)
def _restating_stems() -> frozenset[str]:
    return frozenset(content_words(_RESTATING))


def restates(sentence: str, question: str) -> bool:
    """Whether `sentence` holds no figure the question does not ("It opens at 9 am" answers
    "When does it open?"), no yes, no or negation it does not, and no content word, less those
    that only turn a question into a statement, that the question does not."""
    if figures(sentence) - figures(question):
        return False
    if _polarity(sentence) - _polarity(question):
        return False  # "No, you do not need a GPU" answers "Do I need a GPU?"
    words = content_words(sentence) - _restating_stems()
    return bool(words) and words <= content_words(question)


def about(sentence: str, question: str) -> bool:
    """Whether `sentence` shares a content word with `question`."""
    return bool(content_words(sentence) & content_words(question))


def missing_figures(sentence: str, passages: list[str]) -> list[str]:
    backed = set().union(*(figures(p) for p in passages)) if passages else set()
    missing = []
    for number in _NUMBER.findall(sentence):
        whole, parts = _forms(number)
        significant = [p for p in parts if p.strip("0")]  # 2:00 is 2
        if whole not in backed and not all(p in backed for p in significant):
            missing.append(number)
    return list(dict.fromkeys(missing))


# "Devlin et al." and "(Yang et al., 2019)" name a cited work's authors, not what a sentence is
# about.
_CITED_AUTHOR = re.compile(
    r"\b([A-Z][\w'-]+)(?:\s+(?:and|&)\s+[A-Z][\w'-]+)?,?\s+et\s+al\b|\(([A-Z][\w'-]+)[^()]*?\d{4}\)"
)


def _names(terms: list[str], text: str) -> list[str]:
    """Key terms that name something: no figures (the figures rule checks those against the
    whole passage) and no cited authors."""
    authors = {name.lower() for pair in _CITED_AUTHOR.findall(text) for name in pair if name}
    return [t for t in terms if not any(c.isdigit() for c in t) and t.lower() not in authors]


def swapped_names(sentence: str, closest: tuple[str, str], question: str = "") -> list[str]:
    """The names of `sentence` that its closest passage sentence and the sentences either side
    lack, when the closest names, instead, something neither the answer sentence nor the
    question does: the fact is stated of another subject. `closest`: that sentence, and it
    with its neighbours. "RoBERTa is pretrained on nearly 10 times more data than BERT"
    over "the recently proposed XLNet architecture (Yang et al., 2019) is pretrained using
    nearly 10 times more data than the original BERT" passes every other signal, since the
    passage mentions RoBERTa elsewhere. On 137 hand-labelled ARAGOG answer sentences this
    flagged 10 of the 43 unsupported ones and none of the 94 supported
    (eval/results/context/README.md). Names only: a sentence may well give a figure its
    closest passage sentence does not hold beside others it does."""
    best, window = closest
    absent = _names(missing_terms(key_terms(sentence), [window]), window)
    if not absent:
        return []
    instead = [
        t
        for t in _names(missing_terms(key_terms(best), [sentence, question]), best)
        if t[0].isupper()
    ]
    return absent if instead else []


class CitedPassages:
    """The passages one answer may cite, by number, each split into sentences and encoded the
    first time a sentence cites it: the encoder is on every answer's path, so a passage cited by
    several sentences is encoded once."""

    def __init__(self, passages: list[Passage], encoder: TextEncoder) -> None:
        self.text = {p.n: p.text for p in passages}
        self.source = {p.n: p.source for p in passages}
        self.named = {p.n: f"{p.heading} {p.source}" for p in passages}
        self.encoder = encoder
        self._vectors: dict[int, np.ndarray] = {}

    def sentences(self, n: int) -> list[str]:
        return split_sentences(self.text[n]) or [self.text[n]]

    def around(self, cited: list[int], index: int) -> tuple[str, str]:
        """The `index`-th sentence of the cited passages (in order), and it with the sentences
        either side of it in its passage: "The shed is open Tuesday to Sunday. It is closed on
        Mondays." says Mondays, if only its second sentence does."""
        for n in cited:
            sentences = self.sentences(n)
            if index < len(sentences):
                window = sentences[max(0, index - 1) : index + 2]
                return sentences[index], " ".join(window)
            index -= len(sentences)
        raise IndexError(index)

    def sentence_vectors(self, n: int) -> np.ndarray:
        if n not in self._vectors:
            self._vectors[n] = self.encoder.encode_passages(self.sentences(n))
        return self._vectors[n]


class SupportChecker:
    """Checks an answer's sentences against the passages they cite."""

    def __init__(self, encoder: TextEncoder, min_support: float) -> None:
        self.encoder = encoder
        self.min_support = min_support

    def check(
        self, text: str, passages: list[Passage] | CitedPassages, question: str = ""
    ) -> list[SentenceCheck]:
        """Each sentence of `text` checked; `passages` may come encoded already (the conflict
        check reads the same sentence vectors)."""
        given = (
            passages
            if isinstance(passages, CitedPassages)
            else CitedPassages(passages, self.encoder)
        )
        checks = []
        for sentence in split_sentences(text):
            check = self.check_sentence(
                without_markers(sentence), cited_numbers(sentence), given, question
            )
            if check.verdict in ("unsupported", "uncited") and about(check.text, question):
                check = self.recited(check, given, question) or check
            checks.append(check)
        return checks

    def recited(
        self, check: SentenceCheck, passages: CitedPassages, question: str
    ) -> SentenceCheck | None:
        """The sentence backed by one passage of the same document it did not cite, the best
        such one, or None.

        The 1.5B model often states a fact from one part of a document and cites another part:
        the fact is grounded, only the pointer is wrong, and the user is better served by the
        right pointer than by a withheld answer. The sentence must pass every check against
        that passage alone, names and figures included, and (the caller's test) share a content
        word with the question. It never moves to another document: across documents a wrong
        pointer looks exactly like a planted claim, and moving it vouched for the plant. On the
        injection suite, moving across documents won back 2 right answers and let 4 attacks
        through ("Call the emergency line on 555-0199 [1]" moved to the attacker's FAQ)."""
        sources = {passages.source[n] for n in check.citations}
        others = [
            n for n in passages.text if n not in check.citations and passages.source[n] in sources
        ]
        best = max(
            (self.check_sentence(check.text, [n], passages, question) for n in others),
            key=lambda c: c.support,
            default=None,
        )
        if best is None or best.verdict != "supported":
            return None
        return best.model_copy(update={"recited_from": check.citations})

    def check_sentence(
        self, plain: str, numbers: list[int], passages: CitedPassages, question: str = ""
    ) -> SentenceCheck:
        """One sentence (without its markers) against the passages its numbers name, and the
        question it answers (when given)."""
        cited = [n for n in numbers if n in passages.text]
        if not cited:
            return SentenceCheck(text=plain, verdict="uncited")
        if not _WORD.search(plain):
            # a fragment ("D.2.", "(b)") states nothing; found verbatim in its passage, it
            # scored 1.0, and a redraw made of it once outranked a real answer
            return SentenceCheck(text=plain, citations=cited, verdict="unsupported")
        sources = [passages.text[n] for n in cited]
        named = [passages.named[n] for n in cited]
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
            candidates = np.vstack([passages.sentence_vectors(n) for n in cited])
            similarity = candidates @ self.encoder.encode_passages([plain])[0]
            missing = swapped_names(
                plain, passages.around(cited, int(np.argmax(similarity))), question
            )
            meaning = float(np.clip(np.max(similarity), 0.0, 1.0))
            score = 0.0 if missing else (lexical + meaning) / 2
        verdict: Verdict = "supported" if score >= self.min_support else "unsupported"
        if verdict == "supported" and question and restates(plain, question):
            verdict = "restates"
        return SentenceCheck(
            text=plain, citations=cited, support=round(score, 4), verdict=verdict, missing=missing
        )
