"""Chroma's own server mode (`chroma run`) on loopback, with ingest and query through it."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.scale_bench import chroma_server as server_on_loopback
from ingest.pipeline import Ingestor
from rag_app.config import Settings
from rag_app.retrieval.hybrid import HybridRetriever


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    with server_on_loopback(tmp_path / "server", tmp_path / "server.log") as (port, _pid):
        yield port


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
