"""Where the documents read disagree with a figure the answer gives.

The support check asks whether a sentence's own passage backs it; it cannot see that another
document says something else. A plausible document that states a wrong deadline ("claims must be
submitted by the 25th of the same month") backs the sentence written from it perfectly: nothing
in its text marks it as planted, and across documents a planted claim and a real one look the
same (`support.py`, `SupportChecker.recited`). What the system can do is refuse to hide the
disagreement: when a passage from another document holds a sentence about the same thing with
other figures, the user is shown it, quoted and cited, and judges the sources.

A sentence conflicts with an answer sentence when it is close in meaning (bi-encoder cosine at
least `min_similarity`), comes from a document the answer sentence does not cite, holds a
figure, shares none of the answer's own figures (those the question did not already hold) and
gives one the answer does not, and names nothing that neither the answer sentence nor the
question names (a revenue figure of another company or quarter is another fact, not a
disagreement). Pure given the encoder.
"""

from __future__ import annotations

import re

from rag_app.chain.support import CitedPassages, figures, without_markers
from rag_app.retrieval.coverage import key_terms, missing_terms
from rag_app.types import Conflict, SentenceCheck

_YEAR = re.compile(r"(1[5-9]|20)\d\d")


def other_subject(sentence: str, answer: str, question: str) -> list[str]:
    """The key terms of `sentence` that neither the answer sentence nor the question holds:
    names, models, quarters and years ("Intel", "Q2", "2022": another company's or period's
    figure). A figure with a unit or an ordinal ("5th", "10am") is what may disagree, not
    what the sentence is about."""
    return [
        term
        for term in missing_terms(key_terms(sentence), [answer, question])
        if not term[0].isdigit() or _YEAR.fullmatch(term)
    ]


def conflicts(
    checks: list[SentenceCheck],
    passages: CitedPassages,
    question: str,
    min_similarity: float,
) -> list[Conflict]:
    """The closest conflicting passage sentence for each answer sentence that gives a figure,
    in answer order; one entry per passage sentence however many answer sentences it
    contradicts. Ties keep the earlier passage."""
    asked = figures(question)
    found: dict[tuple[int, str], Conflict] = {}
    for index, check in enumerate(checks):
        given = figures(check.text) - asked
        cited = {passages.source[n] for n in check.citations}
        if not given or not cited:
            continue
        vector = passages.encoder.encode_passages([check.text])[0]
        candidates = []
        for n in (n for n in passages.text if passages.source[n] not in cited):
            similarities = passages.sentence_vectors(n) @ vector
            for sentence, similarity in zip(passages.sentences(n), similarities, strict=True):
                plain = " ".join(without_markers(sentence).split())
                instead = figures(plain) - asked
                if (
                    similarity >= min_similarity
                    and instead
                    and not instead & given
                    and not other_subject(plain, check.text, question)
                ):
                    candidates.append((-float(similarity), n, plain))
        if candidates:
            similarity, n, plain = min(candidates)
            conflict = Conflict(
                sentence=index,
                passage=n,
                text=plain,
                source=passages.source[n],
                similarity=round(-similarity, 4),
            )
            found.setdefault((n, plain), conflict)
    return list(found.values())


def disagreement_text(found: list[Conflict]) -> str:
    """What the answer adds: each conflicting sentence quoted with its citation."""
    return " ".join(
        f"Another document says otherwise: \u201c{c.text.rstrip('.')}\u201d [{c.passage}]."
        for c in found
    )


def own_words(text: str, found: list[Conflict]) -> str:
    """The answer without the disagreement quoted after it: what the model itself claimed."""
    note = disagreement_text(found)
    return text.removesuffix(note).rstrip() if note else text
