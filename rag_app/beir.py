"""Load a BEIR-format folder: corpus.jsonl, queries.jsonl and qrels/<split>.tsv; and name its
documents as files, so a corpus goes through the real ingestion and each chunk maps back to its
document id by its source path. `rag eval` scores on these labels and `rag tune` trains on them."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from rag_app.errors import InvalidInput
from rag_app.files import iter_jsonl


class DatasetError(InvalidInput):
    """A BEIR file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class BeirDoc:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class BeirDataset:
    name: str
    corpus: dict[str, BeirDoc]
    queries: dict[str, str]
    """Only the queries judged in the split's qrels."""
    qrels: dict[str, dict[str, int]]


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    for number, record in iter_jsonl(path, DatasetError):
        if not isinstance(record, dict) or "_id" not in record:
            raise DatasetError(f"{path}:{number}: a record needs an '_id'")
        yield number, record


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    if not path.is_file():
        raise DatasetError(f"{path} is missing")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as rows:
        reader = csv.reader(rows, delimiter="\t")
        for number, row in enumerate(reader, start=1):
            if number == 1 and len(row) == 3 and not row[2].lstrip("-").isdigit():
                continue  # the "query-id corpus-id score" header
            if len(row) != 3 or not row[2].lstrip("-").isdigit():
                raise DatasetError(f"{path}:{number}: expected query-id, corpus-id, score")
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def load_queries(folder: Path) -> dict[str, str]:
    """Every query of the folder, judged or not: id -> text."""
    return {str(r["_id"]): str(r.get("text") or "") for _, r in _jsonl(folder / "queries.jsonl")}


def load_beir_queries(folder: Path, split: str) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """(queries judged in the split, their qrels), without reading the corpus."""
    qrels = load_qrels(folder / "qrels" / f"{split}.tsv")
    all_queries = load_queries(folder)
    missing = sorted(set(qrels) - set(all_queries))
    if missing:
        raise DatasetError(f"{folder}/qrels/{split}.tsv judges unknown queries: {missing[:5]}")
    return {q: all_queries[q] for q in qrels}, qrels


def load_beir(folder: Path, split: str = "test") -> BeirDataset:
    corpus = {
        str(r["_id"]): BeirDoc(str(r["_id"]), str(r.get("title") or ""), str(r.get("text") or ""))
        for _, r in _jsonl(folder / "corpus.jsonl")
    }
    queries, qrels = load_beir_queries(folder, split)
    return BeirDataset(name=folder.name, corpus=corpus, queries=queries, qrels=qrels)


def doc_filename(doc_id: str) -> str:
    """Any id as a safe file name, reversibly (dots escaped too: a leading one would hide it)."""
    return quote(doc_id, safe="").replace(".", "%2E") + ".md"


def doc_id_of(source: str) -> str:
    return unquote(Path(source).name.removesuffix(".md"))
