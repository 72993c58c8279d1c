"""Typed objects passed between stages, so no stage guesses at the keys of a loose dict."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def heading_path(title: str | None, section: str | None) -> str:
    """ "Title > Section", without repeating a title that the section path already starts with."""
    if section and title and not section.startswith(title):
        return f"{title} > {section}"
    return section or title or ""


class Chunk(BaseModel):
    """A searchable piece of a document (a child), or a parent section the LLM reads."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Stable id: same source and content give the same id.")
    text: str
    source: str = Field(description="Path of the source file as given to ingest (resolved).")
    title: str | None = Field(None, description="Document title.")
    section: str | None = Field(None, description='Heading path, e.g. "Guide > Setup".')
    page: int | None = Field(None, description="1-based page number (PDF only).")
    parent_id: str | None = Field(None, description="Id of the parent section (children only).")
    doc_type: str = Field("text", description="markdown, html, pdf, docx, pptx, xlsx, csv or text.")
    duplicate_of: str | None = Field(
        None,
        description="Id of the (near-)identical child searched in this one's place; such a "
        "child has no vector of its own.",
    )

    def search_text(self) -> str:
        """What dense and BM25 search see: the body under its title and heading path, so a
        chunk that never names its topic is still found by it ("contextual chunk headers")."""
        header = heading_path(self.title, self.section)
        return f"{header}\n{self.text}" if header else self.text

    def metadata(self) -> dict[str, Any]:
        """Flat metadata as Chroma stores it (no None values allowed there)."""
        meta = self.model_dump(exclude={"id", "text", "duplicate_of"})
        return {key: value for key, value in meta.items() if value is not None}

    @classmethod
    def from_metadata(cls, id: str, text: str, metadata: dict[str, Any]) -> Chunk:
        fields = {key: metadata[key] for key in cls.model_fields if key in metadata}
        return cls(id=id, text=text, **fields)


class Filters(BaseModel):
    """Restrict retrieval to part of the collection; every field set must match."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str | None = Field(
        None, description="Glob on the source path, e.g. `*/guide/*` or `*.pdf`."
    )
    sources: list[str] | None = Field(
        None,
        description="Exact source paths, any of which may match: documents picked by name "
        "(a glob cannot list several paths, and a path may hold glob characters).",
    )
    section: str | None = Field(
        None, description='Heading path prefix, e.g. "Tutorial > Security" (case-insensitive).'
    )
    doc_type: str | None = Field(
        None, description="markdown, html, pdf, docx, pptx, xlsx, csv or text."
    )

    def is_empty(self) -> bool:
        return (
            self.source is None
            and self.sources is None
            and self.section is None
            and self.doc_type is None
        )


class ScoredChunk(BaseModel):
    """A chunk with the score of the stage that produced it, and of every stage before."""

    model_config = ConfigDict(frozen=True)

    chunk: Chunk
    score: float = Field(description="Score of the latest stage; higher is better.")
    scores: dict[str, float] = Field(
        default_factory=dict, description="Per-stage scores: dense, sparse, fused, rerank."
    )
    also_in: list[str] = Field(
        default_factory=list,
        description="Other sources whose (near-)identical text was stored as this chunk.",
    )


class Passage(BaseModel):
    """A numbered passage shown to the LLM; `[n]` in the answer refers to it."""

    model_config = ConfigDict(frozen=True)

    n: int
    text: str
    source: str
    title: str | None = None
    section: str | None = None
    page: int | None = None
    score: float = 0.0
    also_in: list[str] = Field(
        default_factory=list, description="Other sources holding the same text."
    )
    chunk_id: str | None = Field(
        None, description="The chunk (or parent section) the text is from: what feedback labels."
    )

    @property
    def heading(self) -> str:
        page = f" (page {self.page})" if self.page else ""
        return (heading_path(self.title, self.section) or self.source.rsplit("/", 1)[-1]) + page

    def citation_json(self) -> dict[str, Any]:
        return self.model_dump(include={"n", "source", "section", "page", "text"})


class LLMUsage(BaseModel):
    """What the answer's LLM call cost, as its backend reported it: the figures that prefix
    caching and the context budget are judged by."""

    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = Field(description="Tokens in the prompt, counted by the LLM itself.")
    cached_tokens: int = Field(
        0, description="Prompt tokens whose KV state was reused rather than computed again."
    )
    output_tokens: int = Field(0, description="Tokens generated.")
    prefill_seconds: float | None = Field(
        None, description="Time computing the uncached prompt tokens (local backend only)."
    )
    generation_seconds: float | None = Field(
        None, description="Time generating (local backend only)."
    )

    @property
    def prefill_tokens_per_s(self) -> float | None:
        computed = self.prompt_tokens - self.cached_tokens
        if not self.prefill_seconds or computed <= 0:
            return None
        return computed / self.prefill_seconds

    @property
    def generation_tokens_per_s(self) -> float | None:
        if not self.generation_seconds or self.output_tokens <= 0:
            return None
        return self.output_tokens / self.generation_seconds

    def to_json(self) -> dict[str, Any]:
        rates = {
            "prefill_tokens_per_s": self.prefill_tokens_per_s,
            "generation_tokens_per_s": self.generation_tokens_per_s,
        }
        return {
            **self.model_dump(),
            **{k: None if v is None else round(v, 1) for k, v in rates.items()},
        }


Verdict = Literal["supported", "unsupported", "restates", "uncited"]
"""A sentence's support verdict; `restates`: backed, but says nothing the question did not."""


class SentenceCheck(BaseModel):
    """One sentence of an answer and how well the passages it cites back it
    (`rag_app/chain/support.py` says how it is scored)."""

    text: str = Field(description="The sentence, without its citation markers.")
    citations: list[int] = Field(
        default_factory=list, description="The valid passage numbers it cites."
    )
    support: float = Field(
        0.0, description="0-1: content words and meaning found in the cited passages."
    )
    verdict: Verdict
    missing: list[str] = Field(
        default_factory=list,
        description="Numbers and names in the sentence that no cited passage contains.",
    )
    recited_from: list[int] = Field(
        default_factory=list,
        description="What the model cited, when none of it backed the sentence and another "
        "passage it was given does: `citations` then names that passage instead.",
    )


class Conflict(BaseModel):
    """A sentence of another document that gives other figures for what an answer sentence
    states (`rag_app/chain/conflicts.py`): shown, quoted and cited, so the user judges the
    sources."""

    sentence: int = Field(description="Index of the answer sentence in `Answer.sentences`.")
    passage: int = Field(description="Number of the passage that says otherwise.")
    text: str = Field(description="The passage sentence that says otherwise.")
    source: str = Field(description="Its document.")
    similarity: float = Field(description="Bi-encoder cosine between the two sentences.")


class Answer(BaseModel):
    """What the chain returns: the answer, the passages it cites and those it read."""

    question: str = Field(description="The standalone question the chain answered.")
    text: str
    citations: list[Passage] = Field(
        default_factory=list, description="Passages actually cited, in the order of `n`."
    )
    contexts: list[Passage] = Field(
        default_factory=list, description="Every passage the LLM was given."
    )
    retrieved: list[ScoredChunk] = Field(
        default_factory=list,
        description="What retrieval returned, best first, with every stage's scores (dense, "
        "sparse, fused, rerank): the chat page's retrieval debug view.",
    )
    invalid_citations: list[int] = Field(
        default_factory=list,
        description="Citation numbers the LLM wrote that matched no passage (removed from text).",
    )
    abstained: bool = False
    sentences: list[SentenceCheck] = Field(
        default_factory=list,
        description="The support check of each sentence of `text` (empty for an abstention).",
    )
    conflicts: list[Conflict] = Field(
        default_factory=list,
        description="Sentences of other documents read that give other figures than the "
        "answer; each is quoted at the end of `text`.",
    )
    not_covered: list[str] = Field(
        default_factory=list,
        description="Key terms of the question (names, models, dates, figures) found in "
        "nothing retrieved: why the chain abstained without asking the LLM.",
    )
    withheld: str = Field(
        "",
        description="Why the model's reply was not shown (then `text` is the abstain "
        "sentence): which check stopped it (chain/rag.py `WITHHELD_*`, `passing_text`).",
    )
    quoted: str = Field(
        "",
        description="Why the model's reply was replaced (one of `withheld`'s reasons): `text` "
        "is then a sentence of a document the reply cited, quoted word for word "
        "(chain/quote.py).",
    )
    draws: int = Field(
        1,
        description="How many replies the model wrote: more than 1 when the checks stopped "
        "or flagged the first and the chain drew again (settings `redraws`); the reply "
        "that got furthest through the checks is the one used.",
    )
    timings: dict[str, float] = Field(
        default_factory=dict, description="Seconds spent per stage (retrieve, llm, ...)."
    )
    usage: LLMUsage | None = Field(
        None, description="Tokens and speed of the LLM call; None when no LLM was asked."
    )
    delta: str = Field("", description="While streaming: the text added since the previous Answer.")
    complete: bool = Field(
        True, description="False on the partial Answers `stream` yields before the last."
    )

    def to_json(self) -> dict[str, Any]:
        """The `rag ask --json` contract."""
        return {
            "answer": self.text,
            "citations": [passage.citation_json() for passage in self.citations],
            "abstained": self.abstained,
            "withheld": self.withheld or None,
            "quoted": self.quoted or None,
            "draws": self.draws,
            "not_covered": self.not_covered,
            # a withheld reply's passages, to read: the answer is often in them
            "read": [p.citation_json() for p in self.contexts] if self.withheld else [],
            "sentences": [check.model_dump() for check in self.sentences],
            "conflicts": [conflict.model_dump() for conflict in self.conflicts],
            "timings": {stage: round(seconds, 4) for stage, seconds in self.timings.items()},
            "usage": self.usage.to_json() if self.usage else None,
        }
