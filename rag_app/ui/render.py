"""What an `Answer` looks like on the chat page: the sources panel and the debug table.

Pure functions from typed objects to HTML or rows, so they are tested without a browser. Every
piece of document text is escaped: passages are user data, not markup.
"""

from __future__ import annotations

import html
from pathlib import PurePath

from rag_app.chain.conflicts import disagreement_text, own_words
from rag_app.chain.support import split_sentences
from rag_app.types import Answer, LLMUsage, Passage, ScoredChunk

# "order" is the score that put the rows in this order: the last stage's (fused, rerank, or
# rerank combined with the fused order), which may be none of the columns before it.
DEBUG_COLUMNS = ["#", "document", "section", "dense", "sparse", "fused", "rerank", "order", "text"]
_STAGES = ("dense", "sparse", "fused", "rerank")
_SNIPPET_CHARS = 160
UNSUPPORTED_MARK = "_(unsupported)_"  # Markdown: the page shows it in italics
RESTATES_MARK = "_(restates the question)_"


def _file_name(source: str) -> str:
    return PurePath(source).name


def cite_button(key: str, n: int) -> str:
    """`[n]` as a button that opens citation `n` of the answer under `key` (`ui.sources`).
    Both are in a class name: the chat's sanitiser keeps classes and drops `data-` attributes."""
    return (
        f'<button type="button" class="rag-cite rag-cite-{html.escape(key)}-{n}" '
        f'title="Open source {n}">[{n}]</button>'
    )


def _source_item(passage: Passage, key: str = "") -> str:
    title = passage.title or _file_name(passage.source)
    section = passage.section or ""
    if section.startswith(title):  # heading paths usually start with the document title
        section = section[len(title) :].lstrip(" >")
    details = [
        f'<span class="rag-section">{html.escape(section)}</span>' if section else "",
        f'<span class="rag-page">page {passage.page}</span>' if passage.page else "",
        f'<span class="rag-file">{html.escape(_file_name(passage.source))}</span>',
    ]
    number = cite_button(key, passage.n) if key else f"[{passage.n}]"
    return (
        f'<details class="rag-source" data-n="{passage.n}"><summary>'
        f'<span class="rag-n">{number}</span> <b class="rag-title">{html.escape(title)}</b> '
        + " · ".join(d for d in details if d)
        + f'</summary><div class="rag-passage">{html.escape(passage.text)}</div></details>'
    )


def sources_html(answer: Answer, key: str = "") -> str:
    """The cited passages, each expandable to its text; an abstention says why there are none
    (and a withheld reply lists the passages the model read).
    With the answer's `key` among the session's cited answers, each `[n]` opens its source."""
    if answer.withheld:
        # The model read passages and its reply failed the checks: the answer may well be in
        # them (a 1.5B model often misses what its passage says), so they are listed to read,
        # not cited: no reply vouches for them.
        read = (
            '<div class="rag-read">The passages it read are below: the answer may be in '
            "them.</div>" + "".join(_source_item(p) for p in answer.contexts)
            if answer.contexts
            else ""
        )
        return (
            '<div class="rag-abstained"><b>The reply was not shown:</b> '
            f"{html.escape(answer.withheld)}, so it is not given as an answer.</div>{read}"
        )
    if answer.abstained:
        return (
            '<div class="rag-abstained"><b>No answer from the documents.</b> Nothing retrieved '
            "answers this question, so the assistant did not guess. Try other words, or add "
            "documents on the Library tab.</div>"
        )
    if not answer.citations:
        return (
            '<div class="rag-uncited">This answer cites no passage: treat it with care. '
            "Switch on the retrieval debug view to see what was found.</div>"
        )
    timings = " · ".join(
        [f"{stage.replace('_', ' ')} {seconds:.1f} s" for stage, seconds in answer.timings.items()]
        + ([usage_text(answer.usage)] if answer.usage else [])
    )
    flagged = sum(check.verdict != "supported" for check in answer.sentences)
    note = (
        f'<div class="rag-flagged"><i>(unsupported)</i> marks {flagged} sentence(s) that the '
        "passages they cite do not support, or that cite none: check them; "
        "<i>(restates the question)</i> one that tells nothing new.</div>"
        if flagged
        else ""
    )
    if answer.quoted:
        note += (
            '<div class="rag-flagged"><b>Quoted from the documents.</b> The model\'s reply was '
            f"withheld ({html.escape(answer.quoted)}); the sentence shown is the cited "
            "document's own, the one closest to the question: check that it answers it.</div>"
        )
    if answer.conflicts:
        names = ", ".join(sorted({html.escape(_file_name(c.source)) for c in answer.conflicts}))
        note += (
            f'<div class="rag-flagged"><b>The documents disagree.</b> Other figures than the '
            f"answer's are in {names}: compare the sources before relying on either.</div>"
        )
    return (
        '<div class="rag-sources">'
        + note
        + "".join(_source_item(p, key) for p in answer.citations)
        + (f'<div class="rag-timings">{html.escape(timings)}</div>' if timings else "")
        + "</div>"
    )


def marked_answer(answer: Answer) -> str:
    """The answer's text with a mark after each sentence the support check did not back; the
    disagreement quoted after it (chain/conflicts.py) is not the model's and is not marked."""
    note = disagreement_text(answer.conflicts)
    written = split_sentences(own_words(answer.text, answer.conflicts))
    if answer.abstained or not answer.sentences or len(written) != len(answer.sentences):
        return answer.text
    marks = {"supported": "", "restates": f" {RESTATES_MARK}"}
    marked = " ".join(
        text + marks.get(check.verdict, f" {UNSUPPORTED_MARK}")
        for text, check in zip(written, answer.sentences, strict=True)
    )
    return f"{marked} {note}" if note else marked


def usage_text(usage: LLMUsage) -> str:
    """ "prompt 812 tokens (260 cached) at 98 tok/s": where the time to first token went."""
    text = f"prompt {usage.prompt_tokens} tokens"
    if usage.cached_tokens:
        text += f" ({usage.cached_tokens} cached)"
    rate = usage.prefill_tokens_per_s
    return text + (f" at {rate:.0f} tok/s" if rate else "")


def notice_html(message: str) -> str:
    """A message in place of the sources: a failure, or a question still being answered."""
    return f'<div class="rag-notice">{html.escape(message)}</div>'


def _score(hit: ScoredChunk, stage: str) -> str:
    value = hit.scores.get(stage)
    return "" if value is None else f"{value:.3f}"


def debug_rows(hits: list[ScoredChunk]) -> list[list[str]]:
    """One row per retrieved chunk, best first, with every stage's score (blank: the stage did
    not score it, e.g. BM25 in dense mode, rerank when off)."""
    rows = []
    for rank, hit in enumerate(hits, start=1):
        chunk = hit.chunk
        text = " ".join(chunk.text.split())
        if len(text) > _SNIPPET_CHARS:
            text = text[:_SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
        rows.append(
            [
                str(rank),
                chunk.title or _file_name(chunk.source),
                chunk.section or "",
                *(_score(hit, stage) for stage in _STAGES),
                f"{hit.score:.3f}",
                text,
            ]
        )
    return rows
