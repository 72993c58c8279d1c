"""The passage sentence to show, quoted and cited, when the checks withhold the model's reply.

Most replies the checks withhold on ARAGOG answer from the right document and miss the answer
in it: the 1.5B model restates the question ("Megatron-LM achieved a record-setting
performance in terms of parameter count … [2]") or points elsewhere ("The hyper-parameters …
are given in Table 2 [1]") while the passage it cites says it ("… achieved up to 15.1
PetaFLOPs", "β1 = 0.9, β2 = 0.95"). The document's own sentence, quoted word for word, is
backed by construction and serves the user better than a refusal.

The quote is held to more than the reply was, because no model chose it:
- it comes from a document the reply cited: the model read the passages and pointed there.
  Across documents a quote would be the planted claim an injected document put closest to
  the question (the support check's re-citation stays within one document for that reason);
- the document is about what was asked: one of the question's key terms (a name, model,
  date, figure: `retrieval/coverage.py`) names it (its title, heading or file name), and every
  other one is in the sentence or there too. To "How does GLM-130B address ethical concerns?"
  a red-teaming paper that used GLM-130B as a baseline offers "We deploy two SOTA LLMs as
  baselines, InstructGPT and GLM (130b) …": it names GLM-130B, but the paper is not about it;
- it is prose of at least `MIN_WORDS` words (no question, title, caption, Markdown heading,
  table row, link or code; a list item counts alone) and says more than the question (`restates`).
  Where the passage was cut inside it, the quote shows "…" there;
- it is the one closest in meaning to the question (bi-encoder cosine, ties to the earlier
  passage and sentence), and the caller asks the responds check of it as of any reply.
"""

from __future__ import annotations

import re

import numpy as np

from rag_app.chain.support import CitedPassages, restates, with_markers
from rag_app.retrieval.coverage import key_terms, missing_terms
from rag_app.types import SentenceCheck

MIN_WORDS = 6
TITLE_SHARE = 0.6
CODE_SHARE = 0.06
_CODE = set("(){}[]=;_<>")
_LIST_ITEM = re.compile(r"(?:^|\n)\s*(?:[-*+]|\d+[.)])\s+")
# A paper's own reference marks ("[56]", "[3, 7]") would read as citations of the answer.
_REFERENCE = re.compile(r"\[(\d+(?:\s*[,–-]\s*\d+)*)\]")


def _prose(piece: str) -> bool:
    """Whether `piece` reads as a sentence of prose that tells: not a question (papers head
    sections with them, "Does PAL work with LMs of natural language?", and the responds check
    let that one through as an answer to whether PAL works with them), a title or caption
    (most words capitalised: PDF page headers repeat the paper's title), a Markdown heading,
    table row, link ("see [Answers are slow](#…)" points, it does not answer) or code."""
    if piece.rstrip(" \"'”’").endswith("?"):
        return False
    words = [w for w in piece.split() if w[:1].isalpha()]
    if sum(w[:1].isupper() for w in words) > TITLE_SHARE * len(words):
        return False
    if piece.startswith("#") or "|" in piece or "](" in piece or "```" in piece:
        return False
    return sum(c in _CODE for c in piece) <= CODE_SHARE * len(piece)


def _pieces(sentence: str) -> list[str]:
    """The sentence cut at Markdown list items (each may answer alone), line breaks joined."""
    return [" ".join(item.split()) for item in _LIST_ITEM.split(sentence) if item.strip()]


def quote_text(quote: SentenceCheck) -> str:
    """The answer's text for a quote: the sentence in quotes, "…" where it does not start or
    end as a sentence does, and its citation."""
    sentence = _REFERENCE.sub(r"(\1)", quote.text)
    opening = "" if sentence[:1].isupper() or sentence[:1].isdigit() else "… "
    closing = "" if sentence.endswith((".", "!", "?")) else " …"
    return with_markers(f'"{opening}{sentence}{closing}"', quote.citations)


def closest_quote(question: str, passages: CitedPassages, cited: list[int]) -> SentenceCheck | None:
    """The sentence of the cited documents' passages to quote for `question`, as a supported
    check citing its passage; None when no sentence qualifies. `cited` are the passage numbers
    the withheld reply cited."""
    sources = {passages.source[n] for n in cited if n in passages.source}
    terms = key_terms(question)
    candidates: list[tuple[int, str]] = []  # passage number, piece
    for n in sorted(passages.text):
        named = passages.named[n]
        if passages.source[n] not in sources or (
            terms and len(missing_terms(terms, [named])) == len(terms)
        ):
            continue
        candidates += [
            (n, piece)
            for sentence in passages.sentences(n)
            for piece in _pieces(sentence)
            if len(piece.split()) >= MIN_WORDS
            and _prose(piece)
            and not missing_terms(terms, [piece, named])
            and not restates(piece, question)
        ]
    if not candidates:
        return None
    vectors = passages.encoder.encode_passages([piece for _, piece in candidates])
    scores = vectors @ passages.encoder.encode_query(question)
    n, piece = candidates[int(np.argmax(scores))]  # argmax keeps the first of equal scores
    return SentenceCheck(text=piece, citations=[n], support=1.0, verdict="supported")
