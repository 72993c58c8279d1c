"""Chroma's own server mode (`chroma run`) on loopback, with ingest and query through it."""

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag_app.config import Settings
from rag_app.retrieval.hybrid import HybridRetriever


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    port = _free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "chroma did not start"
            time.sleep(0.2)
    yield port
    proc.terminate()
    proc.wait(timeout=30)


def test_ingest_and_query_through_the_chroma_server(
    chroma_server: int, rag_home: Path, docs_dir: Path, no_network: list[object]
) -> None:
    settings = Settings(home=rag_home, chroma_host="127.0.0.1", chroma_port=chroma_server)
    ingestor = Ingestor(settings)
    assert ingestor.run([docs_dir]).ok
    hits = HybridRetriever.from_store(ingestor.store).retrieve("When is the tool shed closed?", 3)
    assert "Mondays" in hits[0].chunk.text
    assert hits[0].scores["dense"] > 0.3
    assert not (rag_home / "chroma").exists()  # vectors live in the server, not locally
    assert ingestor.store.vectors.count() == ingestor.store.state.stats().chunks
    assert no_network == []
