"""Labelled questions and the training pairs mined from them with the project's own retrieval.

Labels name documents, as people have them (an FAQ's source page, a support log's linked
article, a BEIR qrels file), while the reranker scores chunks. A question's positive is the best
retrieved child of each relevant document (its first child when retrieval missed the document
entirely); its hard negatives are the other hybrid results, never from a relevant document or a
near-duplicate of one.

File formats (docs/tuning.md): a BEIR folder (`queries.jsonl` + `qrels/<split>.tsv`, document
ids matched to files ingested by `rag eval retrieval`), or JSONL with one
``{"question": str, "sources": [path or glob, ...]}`` per line, matched against the sources of
the collection's documents.
"""

from __future__ import annotations

import fnmatch
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rag_app.errors import InvalidInput
from rag_app.files import iter_jsonl
from rag_app.protocols import Retriever
from rag_app.store.state import CollectionState


class LabelError(InvalidInput):
    """The labelled questions cannot be used; the message names the file (and line)."""


@dataclass(frozen=True)
class LabelledQuestion:
    id: str
    question: str
    relevant: frozenset[str]
    """Sources (document paths in the collection) that answer the question."""


@dataclass
class Example:
    """One question's training material; `candidates` is what validation reranks."""

    question: str
    positives: list[str]
    negatives: list[str]
    candidates: list[str] = field(default_factory=list)


def _beir_questions(folder: Path, split: str, sources: list[str]) -> list[LabelledQuestion]:
    from rag_app.beir import doc_id_of, load_beir_queries

    queries, qrels = load_beir_queries(folder, split)
    by_doc: dict[str, str] = {doc_id_of(s): s for s in sources}
    questions = []
    for qid, judged in qrels.items():
        relevant = frozenset(by_doc[d] for d, grade in judged.items() if grade > 0 and d in by_doc)
        if relevant:
            questions.append(LabelledQuestion(qid, queries[qid], relevant))
    return questions


def _jsonl_questions(path: Path, sources: list[str]) -> list[LabelledQuestion]:
    questions = []
    for number, record in iter_jsonl(path, LabelError):
        if not isinstance(record, dict):
            raise LabelError(f"{path}:{number}: expected an object with 'question', 'sources'")
        text, patterns = record.get("question"), record.get("sources")
        if not isinstance(text, str) or not text.strip():
            raise LabelError(f"{path}:{number}: 'question' must be a non-empty string")
        if not isinstance(patterns, list) or not patterns:
            raise LabelError(f"{path}:{number}: 'sources' must list the relevant documents")
        relevant = frozenset(
            s
            for s in sources
            for p in patterns
            if s == p or s.endswith("/" + str(p).lstrip("/")) or fnmatch.fnmatch(s, str(p))
        )
        if not relevant:
            raise LabelError(
                f"{path}:{number}: none of {patterns} matches an ingested document "
                "(give a path as ingested, a path suffix, or a glob)"
            )
        questions.append(LabelledQuestion(str(record.get("id", number)), text.strip(), relevant))
    return questions


def load_labelled(
    path: Path, sources: Iterable[str], split: str = "train"
) -> list[LabelledQuestion]:
    """Questions with their relevant documents, matched to the collection's sources."""
    known = sorted(sources)
    if not known:
        raise LabelError("the collection is empty: ingest the documents the labels refer to")
    if path.is_dir():
        questions = _beir_questions(path, split, known)
    elif path.is_file():
        questions = _jsonl_questions(path, known)
    else:
        raise LabelError(f"{path} is neither a BEIR folder nor a JSONL file")
    if not questions:
        raise LabelError(f"{path}: no question's relevant documents are in this collection")
    return questions


def split_questions(
    questions: list[LabelledQuestion], validation_share: float, seed: int
) -> tuple[list[LabelledQuestion], list[LabelledQuestion]]:
    """(train, validation), shuffled reproducibly; validation gets at least one question."""
    shuffled = list(questions)
    random.Random(seed).shuffle(shuffled)
    n_val = max(1, round(len(shuffled) * validation_share))
    if n_val >= len(shuffled):
        raise LabelError(f"{len(questions)} labelled question(s) are too few to hold some out")
    return shuffled[n_val:], shuffled[:n_val]


def mine_examples(
    questions: list[LabelledQuestion],
    retriever: Retriever,
    state: CollectionState,
    candidates: int,
    negatives: int,
    seed: int,
    progress: bool = False,
) -> list[Example]:
    from tqdm import tqdm

    rng = random.Random(seed)
    examples = []
    for q in tqdm(questions, desc="mining negatives", unit="q", disable=not progress):
        hits = retriever.retrieve(q.question, candidates)
        best: dict[str, str] = {}
        pool: list[str] = []
        for hit in hits:
            holders = {hit.chunk.source, *hit.also_in}
            relevant = holders & q.relevant
            if relevant:
                for source in relevant:
                    best.setdefault(source, hit.chunk.search_text())
            else:
                pool.append(hit.chunk.search_text())
        for source in sorted(q.relevant - best.keys()):
            first = state.first_child(source)
            if first is not None:
                best[source] = first.search_text()
        if not best:
            continue
        chosen = rng.sample(pool, min(negatives, len(pool)))
        examples.append(
            Example(q.question, list(best.values()), chosen, [h.chunk.search_text() for h in hits])
        )
    return examples
