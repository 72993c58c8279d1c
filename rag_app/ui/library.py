"""The Library tab: collections, their documents, uploading files to ingest, deleting.

Each write opens its own store and closes it again (as `rag ingest` does), so answering, which
keeps its store open, sees the change through SQLite and the BM25 index's generation.
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ingest.pipeline import FileResult, IngestReport, ingest_paths, remove_documents
from rag_app.config import Settings
from rag_app.errors import InvalidInput
from rag_app.models.cards import EmbedderCard, RerankerCard
from rag_app.store.state import CollectionState
from rag_app.tuning.abstention import calibrate_collection

DOCUMENT_COLUMNS = ["title", "type", "file", "source"]
RESULT_COLUMNS = ["file", "result", "detail"]


@dataclass
class TuningJob:
    """ "Tune this collection" running in a thread of its own, so it outlives the page that
    started it (a closed tab, a reload) and the page only polls what it says."""

    collection: str
    started: float = field(default_factory=time.monotonic)
    stage: str = "starting"
    detail: str = ""
    finished: float | None = None
    outcome: str = ""

    def describe(self) -> str:
        elapsed = (self.finished or time.monotonic()) - self.started
        clock = f"{elapsed / 60:.0f} min" if elapsed >= 60 else f"{elapsed:.0f} s"
        if self.finished is not None:
            return f"Tuning {self.collection!r} finished after {clock}: {self.outcome}"
        detail = f" ({self.detail})" if self.detail else ""
        return f"Tuning {self.collection!r}: {self.stage}{detail}, {clock} so far."


def _card_line(target: str, card: RerankerCard | EmbedderCard) -> str:
    gain = card.validation.gain
    measured = f" ({gain.describe()} held-out questions)" if gain else ""
    if card.installed:
        return f"{target} installed{measured}"
    return f"{target} not installed: no clear gain over what was there{measured}"


class Library:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._jobs: dict[str, TuningJob] = {}
        self._lock = threading.Lock()

    def start_tuning(
        self, collection: str, count: int = 200, budget_minutes: float | None = 20
    ) -> TuningJob:
        """Generate questions from the collection's documents, tune its bi-encoder and reranker
        from them and recalibrate its gate, in the background; one job per collection."""
        from rag_app.tuning import tune_from_documents

        settings = self.settings_for(collection)
        with self._lock:
            running = self._jobs.get(collection)
            if running is not None and running.finished is None:
                raise InvalidInput(f"{collection!r} is already being tuned")
            job = self._jobs[collection] = TuningJob(collection)

        def stage(name: str, detail: str) -> None:
            job.stage, job.detail = name, detail

        def work() -> None:
            try:
                cards = tune_from_documents(settings, count, budget_minutes, on_stage=stage)
                job.outcome = "; ".join(_card_line(t, c) for t, c in cards.items()) + "."
            except Exception as err:  # the page shows it; the server carries on
                job.outcome = f"failed while {job.stage}: {err}"
            finally:
                job.finished = time.monotonic()

        threading.Thread(target=work, name=f"tune-{collection}", daemon=True).start()
        return job

    def tuning(self, collection: str) -> TuningJob | None:
        return self._jobs.get(collection)

    def settings_for(self, collection: str) -> Settings:
        """Settings of a collection chosen or typed on the page (the name is validated)."""
        return self.settings.updated(collection=collection)

    def collections(self) -> list[str]:
        """Collections with a state database under `home`, and the configured one."""
        root = self.settings.home / "collections"
        found = {p.parent.name for p in root.glob("*/state.sqlite")} if root.is_dir() else set()
        return sorted(found | {self.settings.collection})

    def documents(self, collection: str) -> list[list[str]]:
        """One row per document, by title."""
        settings = self.settings_for(collection)
        path = settings.collection_dir / "state.sqlite"
        if not path.exists():
            return []
        state = CollectionState(path)
        try:
            records = sorted(
                state.documents().values(), key=lambda r: ((r.title or "").lower(), r.source)
            )
        finally:
            state.close()
        return [[r.title or "", r.doc_type, Path(r.source).name, r.source] for r in records]

    def upload(self, files: list[str], collection: str) -> list[list[str]]:
        """Copy uploads into the collection's upload folder and ingest them; one result row
        per file. A file that fails is not kept."""
        settings = self.settings_for(collection)
        settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        copies = []
        for file in files:
            target = settings.uploads_dir / Path(file).name
            shutil.copyfile(file, target)
            copies.append(target.resolve())
        report = ingest_paths(copies, settings, prune=False, progress=True)
        _recalibrate(report, settings)
        for result in report.files:
            if result.outcome == "failed":
                Path(result.source).unlink(missing_ok=True)
        order = {str(copy): i for i, copy in enumerate(copies)}
        report.files.sort(key=lambda f: order[f.source])  # as uploaded, not as processed
        return _rows(report)

    def delete(self, sources: list[str], collection: str) -> list[list[str]]:
        """Remove documents; a copy made by an upload goes too."""
        settings = self.settings_for(collection)
        report = remove_documents(sources, settings)
        _recalibrate(report, settings)
        uploads = settings.uploads_dir.resolve()
        for result in report.files:
            path = Path(result.source)
            if result.outcome == "removed" and path.parent == uploads:
                path.unlink(missing_ok=True)
        return _rows(report)


def _recalibrate(report: IngestReport, settings: Settings) -> None:
    """The gate's thresholds describe the collection's contents: refit them when those
    changed (the chat reads them afresh on its next question)."""
    if report.changed():
        calibrate_collection(settings)


def _rows(report: IngestReport) -> list[list[str]]:
    return [[Path(f.source).name, f.outcome, _detail(f)] for f in report.files]


def _detail(result: FileResult) -> str:
    if result.outcome == "ingested":
        tables = (
            f", {result.tables} table{'' if result.tables == 1 else 's'}" if result.tables else ""
        )
        return "; ".join(
            [f"{result.chunks} chunk{'' if result.chunks == 1 else 's'}{tables}", *result.warnings]
        )
    if result.outcome == "skipped":
        return "unchanged: already ingested"
    if result.outcome == "removed":
        return "removed from the collection"
    return result.reason or ""
