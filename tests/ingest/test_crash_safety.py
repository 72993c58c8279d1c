"""kill -9 in the middle of a real `rag ingest`: the old index stays usable, the next run heals."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag_app.config import Settings
from rag_app.retrieval.hybrid import HybridRetriever

FILES = 24


def _write_corpus(folder: Path, version: str) -> None:
    folder.mkdir(exist_ok=True)
    for i in range(FILES):
        sections = "\n\n".join(
            f"## Part {j}\n\nTopic {i}-{j} ({version}): the {version} guide to widget {i}, "
            f"step {j}. Calibrate the widget before use and record the reading."
            for j in range(6)
        )
        (folder / f"doc{i:02d}.md").write_text(f"# Widget {i}\n\n{sections}\n")


def _committed_with(state_db: Path, text: str) -> int:
    if not state_db.exists():
        return 0
    with sqlite3.connect(state_db, timeout=5) as db:
        row = db.execute(
            "SELECT COUNT(DISTINCT source) FROM chunks WHERE text LIKE ?", (f"%{text}%",)
        ).fetchone()
    return int(row[0])


@pytest.mark.integration
def test_kill_9_mid_ingest_keeps_the_old_index_and_the_next_run_completes(
    settings: Settings, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    _write_corpus(corpus, "v1")
    assert Ingestor(settings).run([corpus]).ok
    _write_corpus(corpus, "v2")

    env = {**os.environ, "RAG_HOME": str(settings.home), "RAG_INGEST_BATCH_CHUNKS": "6"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag_app.cli", "ingest", str(corpus)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    state_db = settings.collection_dir / "state.sqlite"
    deadline = time.monotonic() + 300
    while _committed_with(state_db, "(v2)") < 2 and proc.poll() is None:
        assert time.monotonic() < deadline, "ingest made no progress"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"
    done = _committed_with(state_db, "(v2)")
    assert 2 <= done < FILES

    # The interrupted index answers queries: old and new documents, no half-written ones.
    ingestor = Ingestor(settings)
    hits = HybridRetriever.from_store(ingestor.store).retrieve("calibrate widget 7 reading", 5)
    assert hits and all("Calibrate" in h.chunk.text for h in hits)
    assert ingestor.store.state.stats().documents == FILES

    # The next run finishes the job without duplicates or orphans.
    report = ingestor.run([corpus])
    assert report.ok and report.count("ingested") == FILES - done
    state, vectors = ingestor.store.state, ingestor.store.vectors
    assert _committed_with(state_db, "(v1)") == 0
    assert vectors.count() == state.stats().chunks
    for source in state.documents():
        assert vectors.ids_for_sources([source]) == state.child_ids(source)
    ingestor.store.close()
