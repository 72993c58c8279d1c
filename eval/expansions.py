"""The LLM's query expansions for a retrieval evaluation, written once per query and kept.

At several seconds a query on 2 cores, HyDE over SciFact's 300 test claims is a half-hour job:
each expansion is appended to a JSONL file the moment it is written, so an interrupted run
resumes where it stopped and a second evaluation (other configs, another collection) reuses
them. A line keyed to another question text, expansion kind or model is written anew, never
reused for the wrong one.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, Field

from eval.answers import appended_lines
from rag_app.chain.expand import Expansion, write_expansions
from rag_app.config import Settings
from rag_app.files import append_line


class QueryExpansion(BaseModel):
    """One query's expansions, and what wrote them."""

    id: str = Field(description="The query id.")
    question: str = Field(description="The query text the expansions were written for.")
    kind: Expansion
    model: str = Field(description="The LLM that wrote them: backend and model name.")
    expansions: list[str]
    seconds: float = Field(description="The LLM call's wall time, added to the query's latency.")


def model_label(settings: Settings) -> str:
    return f"{settings.llm_backend}:{settings.llm_model}"


def expand_queries(
    queries: Mapping[str, str],
    kind: Expansion,
    settings: Settings,
    path: Path | None = None,
    progress: bool = False,
) -> dict[str, QueryExpansion]:
    """Every query's expansions of `kind`, those already in `path` reused, the rest written by
    the configured LLM (loaded only if one is missing) and appended to `path` as they come."""
    label = model_label(settings)
    kept: dict[str, QueryExpansion] = {}
    for data in appended_lines(path) if path else []:
        record = QueryExpansion.model_validate(data)
        if (record.kind, record.model, record.question) == (kind, label, queries.get(record.id)):
            kept[record.id] = record
    missing = [qid for qid in queries if qid not in kept]
    if not missing:
        return kept
    from tqdm import tqdm

    from rag_app.models.llm import make_chat_model

    llm = make_chat_model(settings)
    for qid in tqdm(missing, desc=f"{kind} ", unit="q", disable=not progress):
        started = time.perf_counter()
        written = write_expansions(llm, queries[qid], kind, settings.multi_query_count)
        record = QueryExpansion(
            id=qid,
            question=queries[qid],
            kind=kind,
            model=label,
            expansions=written,
            seconds=round(time.perf_counter() - started, 3),
        )
        if path is not None:
            append_line(path, record)
        kept[qid] = record
    return kept
