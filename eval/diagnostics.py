"""What the `rag eval index | health | scores` reports share: a collection's stored vectors
read back (never modified), query texts from a question file or BEIR folder, and the report
files (results.json, results.md; plots beside them)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval.report import provenance, write_json
from rag_app.retrieval.hybrid import EmptyCollectionError
from rag_app.store import CollectionStore


@dataclass(frozen=True)
class CollectionVectors:
    """The searchable children of a collection with their stored vectors, row i = ids[i]."""

    ids: list[str]
    sources: list[str]
    texts: list[str]
    matrix: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def load_vectors(store: CollectionStore) -> CollectionVectors:
    """Children committed in SQLite (the source of truth) that have a vector in Chroma."""
    children = {c.id: c for c in store.state.children()}
    if not children:
        raise EmptyCollectionError(
            f"collection {store.settings.collection!r} is empty: run `rag ingest PATH`"
        )
    ids, matrix = store.vectors.vectors_of(list(children))
    return CollectionVectors(
        ids,
        [children[i].source for i in ids],
        [children[i].text for i in ids],
        matrix,
    )


def query_texts(path: Path) -> list[str]:
    """Query texts of a BEIR folder (queries.jsonl) or a question file (JSON/JSONL)."""
    from eval.questions import load_questions
    from rag_app.beir import load_queries

    if path.is_dir():
        return list(load_queries(path).values())
    return [q.question for q in load_questions(path)]


def encode_queries(store: CollectionStore, texts: Sequence[str], progress: bool) -> np.ndarray:
    from tqdm import tqdm

    rows = [
        store.embedder.encode_query(t)
        for t in tqdm(texts, desc="encode queries", unit="q", leave=False, disable=not progress)
    ]
    return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)


def finish_report(report: dict[str, Any], started: float) -> dict[str, Any]:
    return {**report, **provenance(), "wall_seconds": round(time.perf_counter() - started, 1)}


def write_report(out: Path, report: dict[str, Any], lines: list[str]) -> None:
    """results.json and results.md, ending with where and when the numbers came from."""
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "results.json", report)
    lines = [
        *lines,
        "",
        f'Machine {report["machine"]}, "{report.get("cpu", "")}"; '
        f"commit {report['git_commit']}, {report['date']}, "
        f"wall time {report['wall_seconds']} s.",
        "",
    ]
    (out / "results.md").write_text("\n".join(lines))
