"""load → parse → chunk → embed → store, one batch of files at a time.

Ingest decides what a collection should hold (which files changed, their chunks, which children
duplicate stored ones); `CollectionStore` writes it, in the order that survives a kill.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from ingest.chunking import ChunkSizes, chunk_document
from ingest.dedup import mark_duplicates
from ingest.formats.ocr import Ocr
from ingest.loaders import (
    IngestError,
    ParseOptions,
    SourceDocument,
    discover,
    parse,
    read_file,
)
from ingest.references import without_references
from rag_app.config import Settings, get_settings
from rag_app.store import CollectionStore, DocumentRecord, DocumentRows
from rag_app.types import Chunk

Outcome = Literal["ingested", "skipped", "failed", "removed"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileResult:
    source: str
    outcome: Outcome
    reason: str | None = None
    chunks: int = 0
    warnings: tuple[str, ...] = ()
    """What was read only in part, e.g. pages without a text layer."""
    tables: int = 0
    references: int = 0
    """Reference-list children left out of the index (`index_reference_lists`)."""


class _StoreFailure(Exception):
    """The store or the embedding model failed while one file was being chunked: not that
    file's fault, so it ends the run like any other store error (the cause is re-raised)."""


def failure_reason(err: Exception, doc_type: str) -> str:
    """One line for the report: an `IngestError` says it already; anything else a parser
    raised is named with its type, since it may come from a library release not seen yet."""
    if isinstance(err, IngestError):
        return str(err)
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    message = " ".join(str(err).split())[:240]
    return f"{doc_type} parser failed ({type(err).__name__}: {message})"


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    embedded: int = 0
    """Children whose vectors had to be computed (the rest came from the cache)."""

    def count(self, outcome: Outcome) -> int:
        return sum(1 for f in self.files if f.outcome == outcome)

    @property
    def chunks(self) -> int:
        return sum(f.chunks for f in self.files)

    @property
    def references(self) -> int:
        return sum(f.references for f in self.files)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0

    def changed(self) -> bool:
        """The collection's contents moved: what was measured on them (the gate) is stale."""
        return self.count("ingested") + self.count("removed") > 0

    def failures(self) -> list[str]:
        """ "source: reason" for each file that failed."""
        return [f"{f.source}: {f.reason}" for f in self.files if f.outcome == "failed"]

    def warnings(self) -> list[str]:
        """ "source: warning" for each file read only in part."""
        return [f"{f.source}: {w}" for f in self.files for w in f.warnings]

    def summary(self) -> str:
        return (
            f"{self.count('ingested')} ingested, {self.count('skipped')} unchanged, "
            f"{self.count('removed')} removed, {self.count('failed')} failed "
            f"({self.chunks} chunks, {self.embedded} embedded"
            + (f", {self.references} reference-list chunks left out)" if self.references else ")")
        )


@dataclass
class _Pending:
    doc: SourceDocument
    root: Path | None
    parents: list[Chunk]
    children: list[Chunk]
    references: int = 0


class Ingestor:
    """Ingests files and folders into one collection. As a context manager it closes the
    store it opened (a store passed in stays its owner's to close)."""

    def __init__(self, settings: Settings | None = None, store: CollectionStore | None = None):
        self.settings = settings or get_settings()
        self._owns_store = store is None
        self.store = store or CollectionStore(self.settings)
        self.sizes = ChunkSizes(
            child_tokens=self.settings.child_chunk_tokens,
            child_overlap=self.settings.child_overlap_tokens,
            parent_tokens=self.settings.parent_chunk_tokens,
            parent_child=self.settings.parent_child,
            splitter=self.settings.chunking,
            semantic_percentile=self.settings.semantic_breakpoint_percentile,
        )
        ocr = Ocr.find(self.settings.ocr_languages) if self.settings.ocr == "auto" else None
        self.parse_options = ParseOptions(pdf_tables=self.settings.pdf_tables, ocr=ocr)

    def __enter__(self) -> Ingestor:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._owns_store:
            self.store.close()

    def run(
        self, paths: Iterable[Path | str], prune: bool = True, progress: bool = False
    ) -> IngestReport:
        targets = discover([Path(p) for p in paths], self.settings.include, self.settings.exclude)
        self.store.recover()  # what a killed run left to do
        known = self.store.documents()
        report = IngestReport()
        pending: list[_Pending] = []
        files = targets
        if progress:
            from tqdm import tqdm

            files = tqdm(targets, desc="files", unit="file")
        for path, root in files:
            source = str(path)
            doc_type = "file"
            try:
                raw = read_file(path, int(self.settings.max_file_mb * 1e6))
                doc_type = raw.doc_type
                previous = known.get(source)
                if previous is not None and previous.content_hash == raw.content_hash:
                    report.files.append(FileResult(source, "skipped"))
                    continue
                doc = parse(raw, self.parse_options)
                parents, children = chunk_document(
                    doc, self.sizes, self.store.embedder.tokenize, self._embed
                )
                references = 0
                if not self.settings.index_reference_lists:
                    parents, children, references = without_references(parents, children)
            except _StoreFailure as err:
                raise err.__cause__ or err from None
            except Exception as err:  # whatever a parser raises is this file's failure alone
                if not isinstance(err, IngestError | OSError):
                    log.debug("parsing %s failed", source, exc_info=True)
                report.files.append(FileResult(source, "failed", failure_reason(err, doc_type)))
                continue
            pending.append(_Pending(doc, root, parents, children, references))
            if sum(len(p.children) for p in pending) >= self.settings.ingest_batch_chunks:
                self._store(pending, report, progress)
                pending = []
        self._store(pending, report, progress)
        if prune:
            self._prune(targets, known, report)
        self.store.promote_orphans()
        self.store.bm25()  # rebuilt only if this run committed a change
        return report

    def _embed(self, texts: list[str]) -> np.ndarray:
        """Sentence vectors for semantic chunking, through the cache like any passage."""
        try:
            return self.store.encode(texts)[0]
        except Exception as err:
            raise _StoreFailure() from err

    def _store(self, pending: list[_Pending], report: IngestReport, progress: bool) -> None:
        if not pending:
            return
        children = [c for p in pending for c in p.children]
        vectors, computed = self.store.encode([c.search_text() for c in children], progress)
        report.embedded += computed
        # Compare with stored children of other documents only: the old versions of the
        # documents in this batch are about to be replaced.
        replaced = [p.doc.source for p in pending]
        texts = [c.text for c in children]
        nearest, same_text = self.store.stored_matches(texts, vectors, replaced)
        duplicate_of = mark_duplicates(
            texts,
            [c.id for c in children],
            vectors,
            nearest,
            self.settings.near_duplicate_similarity,
            same_text,
        )
        offset = 0
        for item in pending:
            count = len(item.children)
            item.children = [
                c.model_copy(update={"duplicate_of": d})
                for c, d in zip(item.children, duplicate_of[offset : offset + count], strict=True)
            ]
            offset += count
        self.store.replace_documents(
            [
                DocumentRows(
                    DocumentRecord(
                        source=p.doc.source,
                        content_hash=p.doc.content_hash,
                        mtime=p.doc.mtime,
                        title=p.doc.title,
                        doc_type=p.doc.doc_type,
                        root=str(p.root) if p.root else None,
                    ),
                    p.parents,
                    p.children,
                )
                for p in pending
            ],
            vectors,
        )
        report.files += [
            FileResult(
                p.doc.source,
                "ingested",
                chunks=len(p.children),
                warnings=tuple(p.doc.warnings),
                tables=p.doc.tables,
                references=p.references,
            )
            for p in pending
        ]

    def _prune(
        self,
        targets: list[tuple[Path, Path | None]],
        known: dict[str, DocumentRecord],
        report: IngestReport,
    ) -> None:
        """Remove documents that vanished from a folder ingested in this run."""
        roots = {str(root) for _, root in targets if root is not None}
        present = {str(path) for path, _ in targets}
        gone = [
            record.source
            for record in known.values()
            if record.root in roots and record.source not in present
        ]
        report.files.extend(self._remove(gone))

    def remove(self, sources: Iterable[str]) -> IngestReport:
        """Take documents out of the collection (the chat page's delete); a source that is
        not in it is reported as failed."""
        known = self.store.documents()
        wanted = list(dict.fromkeys(sources))
        report = IngestReport(self._remove([s for s in wanted if s in known]))
        report.files += [
            FileResult(s, "failed", "not in the collection") for s in wanted if s not in known
        ]
        self.store.promote_orphans()
        self.store.bm25()
        return report

    def _remove(self, sources: list[str]) -> list[FileResult]:
        self.store.remove_documents(sources)
        return [FileResult(source, "removed") for source in sources]


def ingest_paths(
    paths: Iterable[Path | str],
    settings: Settings | None = None,
    prune: bool = True,
    progress: bool = False,
) -> IngestReport:
    """Ingest files or folders into the configured collection (the Python API of `rag ingest`)."""
    with Ingestor(settings) as ingestor:
        return ingestor.run(paths, prune=prune, progress=progress)


def remove_documents(sources: Iterable[str], settings: Settings | None = None) -> IngestReport:
    """Remove documents (by source path, as listed by the state store) from the collection."""
    with Ingestor(settings) as ingestor:
        return ingestor.remove(sources)
