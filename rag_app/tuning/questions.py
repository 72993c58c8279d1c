"""`rag questions generate`: a question set written from a collection's own chunks, for `rag tune`
(labels), `rag calibrate` (the gate's positives, and by name swapping its negatives) and
`rag eval answers` (an evaluation set for documents nobody labelled).

How a question is made is LlamaIndex's question-context pair method (its
`generate_qa_embedding_pairs`): one prompt per chunk asks for N questions, one per line. The
trial in eval/results/questions/ ran it, through LlamaIndex, next to RAGAS's test-set generator
on this CPU; it gave far more usable questions per minute (RAGAS spends several LLM calls per
chunk on extraction before its first question, and the 1.5B model fails its JSON schemas). The
loop itself runs here on the project's chat model rather than through llama-index-finetuning,
which would bring Azure, Mistral and Cohere clients along and keeps neither the chunk a
question came from per line nor a resumable log.

A question survives only if it stands alone, is no near-duplicate of one kept before, does not
merely restate its chunk's heading, and finds its way back: hybrid search ranks its source chunk
(or a chunk of the same section) in the top `questions_round_trip_k`.

The run is resumable: `OUT.progress.jsonl` gets one line per chunk done, flushed as it is
written, and is the one source of truth; `OUT` (the kept questions) is rewritten from it.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field, ValidationError

from rag_app.chain.prompts import chat_prompt, fence
from rag_app.config import Settings
from rag_app.errors import InvalidInput
from rag_app.files import iter_jsonl, write_jsonl
from rag_app.protocols import Retriever
from rag_app.retrieval.coverage import question_words
from rag_app.text import WORD, stems
from rag_app.types import Chunk, heading_path

Drop = Literal[
    "not a question",
    "refers to the passage",
    "copies an example",
    "duplicate",
    "restates the heading",
    "not retrieved",
]

MIN_WORDS = 4
MAX_WORDS = 40
MIN_CHUNK_WORDS = 25
"""Chunks shorter than this (a heading, a caption, a table row) are not asked about."""
DUPLICATE_OVERLAP = 0.8
"""Jaccard overlap of two questions' content words (stemmed, without stop and asking words) at
or above which they are the same question: a reordering or a changed stop word does not make a
second question."""
_LIST_MARK = re.compile(r"^\s*(?:[-*•]+|\(?\d+[.):]|[Qq]\d*[.:]|Question\s*\d*[.:])\s*")
_DEICTIC = re.compile(
    # "in the context of FastAPI" names a topic, not the passage
    r"\b(?:the|this|that|given|above|provided) (?:passage|text|document|excerpt|context|article|"
    r"paper|section|study)\b(?!\s+of\b)|\b(?:these|those)\b",
    re.IGNORECASE,
)
_THE_PASSAGE = (
    r"(?:the|this|that|given|above|provided)\s+"
    r"(?:passage|text|document|excerpt|context|article|paper|section|study)\b"
    r"(?!\s+of\b|\s*[\"“'])"  # "the context of X", 'the paper "Title"' name things
)
_POINTING = re.compile(
    # "..., according to the passage", "... described in the study", "... used in this paper"
    r"\s*,?\s*\b(?P<verb>(?:as\s+|being\s+)?(?:described|mentioned|discussed|used|presented|reported|shown|"
    r"proposed|studied|given|stated|defined|introduced|investigated|examined|analy[sz]ed|"
    r"observed|found|noted|highlighted|outlined|tested|identified)\s+)?"
    r"(?P<pointer>(?:in|by|from|within|throughout|according\s+to)\s+" + _THE_PASSAGE + ")",
    re.IGNORECASE,
)
_LEADING = re.compile(
    r"^(?:(?:according\s+to|based\s+on|in|from)\s+" + _THE_PASSAGE + r"\s*,\s*"
    # a statement's "The study shows that ..." / "This paper reports ...": the claim is the rest
    r"|" + _THE_PASSAGE + r"\s+(?:shows?|showed|finds|found|demonstrates?|demonstrated|reports?|"
    r"reported|suggests?|suggested|indicates?|indicated|concludes?|concluded)\s+(?:that\s+)?)",
    re.IGNORECASE,
)
Form = Literal["questions", "claims"]


class QuestionError(InvalidInput):
    """A question set or its progress log cannot be used; the message names the file."""


class GeneratedQuestion(BaseModel):
    """One line of the question set: the fields `rag tune` (`sources`) and `rag eval answers`
    (`question`, `id`) read, plus where it came from."""

    id: str
    question: str
    sources: list[str] = Field(
        description="The document the question was written from, as a path relative to the "
        "folder holding all of the collection's documents: `rag tune` matches it as a path "
        "suffix, so the set still works where the same files were ingested from elsewhere."
    )
    chunk: str = Field(description="Id of the chunk it was written from.")
    section: str | None = Field(None, description="Heading path of that chunk.")
    generated: bool = Field(True, description="Written by the LLM, not by a person.")
    rank: int | None = Field(
        None, description="Where the round trip found its source chunk (1 = first)."
    )


class Candidate(BaseModel):
    question: str
    dropped: Drop | None = None
    written: str | None = Field(
        None, description="What the model wrote, when `standalone` rewrote it as `question`."
    )
    rank: int | None = Field(
        None,
        description="Where the round trip's hybrid search put the source chunk (1 = first), "
        "when the question got that far and it was found: a set can be cut to a smaller "
        "`questions_round_trip_k` afterwards, and a harder share kept for validation.",
    )


class ChunkRecord(BaseModel):
    """One line of the progress log: a chunk asked about, and what became of its questions."""

    collection: str
    chunk: str
    source: str
    section: str | None = None
    candidates: list[Candidate]
    seconds: float


def sample_chunks(children: Sequence[Chunk], seed: int) -> list[Chunk]:
    """Every chunk worth asking about, in an order that covers the collection early: round-robin
    over documents, and within a document over its sections, each shuffled. Near-duplicates and
    fragments are left out. Tables are chunks like any other, so they are asked about too."""
    rng = random.Random(seed)
    sections: dict[str, dict[str, list[Chunk]]] = {}
    for chunk in children:
        if chunk.duplicate_of is None and len(chunk.text.split()) >= MIN_CHUNK_WORDS:
            by_section = sections.setdefault(chunk.source, {})
            by_section.setdefault(chunk.section or "", []).append(chunk)
    documents: list[list[Chunk]] = []
    for source in sorted(sections):
        groups = [sections[source][name] for name in sorted(sections[source])]
        for group in groups:
            rng.shuffle(group)
        rng.shuffle(groups)
        documents.append(list(_round_robin(groups)))
    rng.shuffle(documents)
    return list(_round_robin(documents))


def _round_robin(groups: Sequence[Sequence[Chunk]]) -> Iterator[Chunk]:
    for i in range(max((len(g) for g in groups), default=0)):
        for group in groups:
            if i < len(group):
                yield group[i]


_AUXILIARY = re.compile(r"\b(?:is|are|was|were|be|been|and|or)\s*$", re.IGNORECASE)


def _unpointed(match: re.Match[str]) -> str:
    """The pointing phrase removed; its verb kept where it is the question's own ("How many
    were identified in the study?", "abbreviated and used in this study")."""
    before = match.string[: match.start()]
    verb = match.group("verb")
    return f" {verb.strip()}" if verb and _AUXILIARY.search(before) else ""


def standalone(question: str) -> str:
    """The question without the phrase that points at its source ("What is the AgDNV vector
    used in the study?" -> "What is the AgDNV vector?"). A small model writes such phrases
    into a third of its questions (144 of 406 on SciFact, 144 of 304 on ARAGOG), which were all
    dropped; without the phrase many stand alone, and the filter's other rules (length,
    retrieval of their source) still decide. One that still points ("How does the passage
    describe ...?") is dropped as before."""
    unled = _LEADING.sub("", question.strip())
    rewritten = re.sub(r"\s+([?.!,])", r"\1", _POINTING.sub(_unpointed, unled)).strip()
    if not rewritten:
        return question
    # only a sentence whose opening was cut needs a capital ("mRNA ..." must stay as written)
    return rewritten[:1].upper() + rewritten[1:] if unled != question.strip() else rewritten


def parse_questions(reply: str, count: int) -> list[str]:
    """The reply's lines without list marks; at most `count` (a small model writes on)."""
    lines = (_LIST_MARK.sub("", line).strip().strip('"') for line in reply.splitlines())
    return [line for line in lines if line][:count]


@dataclass
class QuestionFilter:
    """Decides which generated questions are kept; holds the ones kept so far for the
    duplicate check."""

    retriever: Retriever
    k: int
    examples: Sequence[str] = ()
    """The user's style examples: a small model that runs out of things to say copies them."""
    kept: list[str] = field(default_factory=list)
    _kept_words: list[set[str]] = field(default_factory=list)
    _example_words: list[set[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._example_words = [question_words(e) for e in self.examples]

    def remember(self, question: str) -> None:
        self.kept.append(question)
        self._kept_words.append(question_words(question))

    def judge(self, question: str, chunk: Chunk) -> Candidate:
        """The question, dropped for the first rule it breaks, or kept (and remembered)."""
        words = WORD.findall(question)
        if not MIN_WORDS <= len(words) <= MAX_WORDS:
            return Candidate(question=question, dropped="not a question")
        if _DEICTIC.search(question):
            return Candidate(question=question, dropped="refers to the passage")
        about = question_words(question)
        if _near_any(about, self._example_words):
            return Candidate(question=question, dropped="copies an example")
        if _near_any(about, self._kept_words):
            return Candidate(question=question, dropped="duplicate")
        heading = set(stems(WORD.findall(heading_path(chunk.title, chunk.section) or "")))
        if about <= heading:
            return Candidate(question=question, dropped="restates the heading")
        hits = self.retriever.retrieve(question, self.k)
        rank = next((i for i, hit in enumerate(hits, 1) if _same_place(hit.chunk, chunk)), None)
        if rank is None:
            return Candidate(question=question, dropped="not retrieved")
        self.remember(question)
        return Candidate(question=question, rank=rank)


def _near_any(words: set[str], others: Sequence[set[str]]) -> bool:
    return any(_overlap(words, other) >= DUPLICATE_OVERLAP for other in others)


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _same_place(hit: Chunk, source: Chunk) -> bool:
    return hit.id == source.id or (
        source.parent_id is not None and hit.parent_id == source.parent_id
    )


def example_form(examples: Sequence[str]) -> Form:
    """What the user's own examples are: questions, or statements searched with as they are
    (SciFact's claims, a log of keyword-free assertions). Asking a small model for questions
    "in the style of" statements gets questions (the 1.5B model wrote 406 questions from five
    claims, eval/results/questions/README.md), so the form picks the prompt; most examples
    decide, and none means questions."""
    statements = sum(not e.rstrip().endswith("?") for e in examples)
    return "claims" if statements * 2 > len(examples) else "questions"


def _style(examples: Sequence[str], form: Form) -> str:
    """The examples as the prompt shows them. The claims prompt opens with them, before the
    passage: placed after it, next to "write N", the 1.5B model copied them as its statements
    (eval/results/questions/README.md)."""
    if not examples:
        return ""
    shown = "\n".join(f"- {fence(e)}" for e in examples) + "\n"
    if form == "claims":
        return shown
    return f"Write them in the style of these examples (their form, not their topics):\n{shown}"


def write_questions(
    llm: BaseChatModel, chunk: Chunk, count: int, examples: Sequence[str]
) -> list[str]:
    form = example_form(examples)
    prompt = chat_prompt(form).format_messages(
        heading=fence(heading_path(chunk.title, chunk.section) or chunk.source),
        count=count,
        style=_style(examples, form),
        text=fence(chunk.text),
    )
    content = llm.invoke(prompt).content
    return parse_questions(content if isinstance(content, str) else str(content), count)


def question_id(question: str, chunk_id: str) -> str:
    """Stable across runs, so a resumed set keeps its ids."""
    return hashlib.sha1(f"{chunk_id}\n{question}".encode()).hexdigest()[:12]


def kept_questions_path(settings: Settings) -> Path:
    """Where the chat page's "Tune this collection" keeps the collection's generated set."""
    return settings.collection_dir / "questions" / "generated.jsonl"


def progress_path(out: Path) -> Path:
    return out.with_name(out.name + ".progress.jsonl")


def read_progress(path: Path, collection: str) -> list[ChunkRecord]:
    """The chunks done by earlier runs. A last line cut short by a kill is dropped (its chunk
    is asked again); any other bad line, or a log of another collection, is an error."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    records: list[ChunkRecord] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = ChunkRecord.model_validate_json(line)
        except ValidationError:
            if number == len(lines):
                break
            raise QuestionError(f"{path}:{number}: not a progress record") from None
        if record.collection != collection:
            raise QuestionError(
                f"{path}:{number}: written for collection {record.collection!r}, not "
                f"{collection!r}; choose another --out or remove the file"
            )
        records.append(record)
    return records


def kept_questions(records: Sequence[ChunkRecord]) -> list[GeneratedQuestion]:
    kept = []
    for record in records:
        for candidate in record.candidates:
            if candidate.dropped is None:
                kept.append(
                    GeneratedQuestion(
                        id=question_id(candidate.question, record.chunk),
                        question=candidate.question,
                        sources=[record.source],
                        chunk=record.chunk,
                        section=record.section,
                        rank=candidate.rank,
                    )
                )
    return kept


def write_question_set(out: Path, questions: Sequence[GeneratedQuestion]) -> None:
    write_jsonl(out, (q.model_dump() for q in questions))


@dataclass(frozen=True)
class GenerationReport:
    chunks: int
    """Chunks asked about, this run and earlier ones."""
    generated: int
    kept: int
    dropped: dict[str, int]
    seconds: float
    """LLM and filter time over all runs."""
    stopped_by: Literal["count", "budget", "chunks"]

    @property
    def per_minute(self) -> float:
        return self.kept / (self.seconds / 60) if self.seconds else 0.0

    def summary(self) -> str:
        drops = ", ".join(f"{reason} {n}" for reason, n in sorted(self.dropped.items()))
        return (
            f"{self.kept} of {self.generated} generated questions kept ({drops or 'none dropped'})"
            f" from {self.chunks} chunks; {self.per_minute:.1f} kept per minute; "
            f"stopped: {self.stopped_by}"
        )


def report_of(
    records: Sequence[ChunkRecord], stopped_by: Literal["count", "budget", "chunks"]
) -> GenerationReport:
    dropped: dict[str, int] = {}
    for record in records:
        for c in record.candidates:
            if c.dropped:
                dropped[c.dropped] = dropped.get(c.dropped, 0) + 1
    generated = sum(len(r.candidates) for r in records)
    return GenerationReport(
        chunks=len(records),
        generated=generated,
        kept=generated - sum(dropped.values()),
        dropped=dropped,
        seconds=sum(r.seconds for r in records),
        stopped_by=stopped_by,
    )


@dataclass
class QuestionGenerator:
    """Writes, filters and logs questions chunk by chunk until `count` are kept, the budget is
    spent, or every chunk has been asked about."""

    llm: BaseChatModel
    question_filter: QuestionFilter
    collection: str
    per_chunk: int
    examples: Sequence[str] = ()
    seed: int = 0
    clock: Callable[[], float] = time.monotonic
    _root: str = ""

    def run(
        self,
        children: Sequence[Chunk],
        out: Path,
        count: int,
        budget_minutes: float | None = None,
        progress: bool = False,
        listener: Callable[[int], None] | None = None,
    ) -> GenerationReport:
        """`listener` hears the number of questions kept after each chunk (the page's
        progress)."""
        from tqdm import tqdm

        root = os.path.commonpath([c.source for c in children]) if children else ""
        self._root = root if len({c.source for c in children}) > 1 else os.path.dirname(root)
        log = progress_path(out)
        records = read_progress(log, self.collection)
        done = {r.chunk for r in records}
        for question in kept_questions(records):
            self.question_filter.remember(question.question)
        kept = len(self.question_filter.kept)
        deadline = None if budget_minutes is None else self.clock() + budget_minutes * 60
        stopped_by: Literal["count", "budget", "chunks"] = "chunks"
        out.parent.mkdir(parents=True, exist_ok=True)
        bar = tqdm(
            total=count,
            initial=min(kept, count),
            desc="questions kept",
            unit="q",
            disable=not progress,
        )
        with log.open("a", encoding="utf-8") as sink, bar:
            for chunk in sample_chunks(children, self.seed):
                if kept >= count:
                    stopped_by = "count"
                    break
                if deadline is not None and self.clock() >= deadline:
                    stopped_by = "budget"
                    break
                if chunk.id in done:
                    continue
                record = self._ask(chunk)
                sink.write(record.model_dump_json() + "\n")
                sink.flush()
                records.append(record)
                new = sum(c.dropped is None for c in record.candidates)
                kept += new
                bar.update(min(new, count - bar.n))
                bar.set_postfix(chunks=len(records))
                if listener is not None:
                    listener(kept)
        write_question_set(out, kept_questions(records))
        return report_of(records, stopped_by)

    def _ask(self, chunk: Chunk) -> ChunkRecord:
        started = self.clock()
        questions = write_questions(self.llm, chunk, self.per_chunk, self.examples)
        candidates = []
        for written in questions:
            candidate = self.question_filter.judge(standalone(written), chunk)
            if candidate.question != written:
                candidate.written = written
            candidates.append(candidate)
        return ChunkRecord(
            collection=self.collection,
            chunk=chunk.id,
            source=os.path.relpath(chunk.source, self._root) if self._root else chunk.source,
            section=chunk.section,
            candidates=candidates,
            seconds=self.clock() - started,
        )


def read_question_texts(path: Path) -> list[str]:
    """The questions of a text file (one per line) or of JSONL (a `question` per line): a
    generated set, a labelled one, or a user's own examples."""
    if not path.is_file():
        raise QuestionError(f"{path}: no such file")
    if path.suffix != ".jsonl":
        texts = [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]
    else:
        texts = []
        for number, record in iter_jsonl(path, QuestionError):
            text = record.get("question") if isinstance(record, dict) else None
            if not isinstance(text, str) or not text.strip():
                raise QuestionError(f"{path}:{number}: expected an object with a 'question'")
            texts.append(text.strip())
    if not texts:
        raise QuestionError(f"{path}: no questions")
    return texts


def read_examples(path: Path, limit: int = 5, seed: int = 0) -> list[str]:
    """A few of the user's own questions, to set the style; more than `limit` are sampled,
    reproducibly."""
    examples = read_question_texts(path)
    return random.Random(seed).sample(examples, min(limit, len(examples)))


def generate_questions(
    settings: Settings,
    out: Path,
    count: int,
    budget_minutes: float | None = None,
    examples: Sequence[str] = (),
    progress: bool = False,
    listener: Callable[[int], None] | None = None,
) -> GenerationReport:
    """Generate (or go on generating) the configured collection's question set into `out`."""
    from rag_app.chain.rag import Components

    parts = Components(settings)
    try:
        children = parts.store.state.children()
        if not children:
            raise QuestionError(
                f"collection {settings.collection!r} is empty: ingest documents first"
            )
        generator = QuestionGenerator(
            llm=parts.llm,
            question_filter=QuestionFilter(
                parts.retriever, settings.questions_round_trip_k, examples
            ),
            collection=settings.collection,
            per_chunk=settings.questions_per_chunk,
            examples=examples,
            seed=settings.tune_seed,
        )
        return generator.run(children, out, count, budget_minutes, progress, listener)
    finally:
        parts.store.close()
