from pathlib import Path

import numpy as np

from rag_app.config import Settings
from rag_app.store.vectors import VectorIndex, make_client
from rag_app.types import Chunk


def test_nearest_answers_for_more_vectors_than_sqlite_can_bind(rag_home: Path) -> None:
    """A 1,031-page manual is one ingest batch of thousands of children; one Chroma query over
    all of them ended the run with "too many SQL variables" (8 hits each, 32,766 at most)."""
    index = VectorIndex(make_client(Settings(home=rag_home)), "big", "test-model")
    rng = np.random.default_rng(0)
    stored = rng.normal(size=(20, 16)).astype(np.float32)
    chunks = [Chunk(id=f"c{i}", text=f"text {i}", source=f"/doc{i % 2}.md") for i in range(20)]
    index.upsert(chunks, stored)
    queries = np.repeat(stored, 250, axis=0)  # 5,000 queries x 8 hits = 40,000 ids
    nearest = index.nearest(queries, exclude_sources=["/doc1.md"])
    assert len(nearest) == 5000
    assert [n[0] if n else None for n in nearest[:4]] == ["c0", "c0", "c0", "c0"]
    assert nearest[250] is not None and nearest[250][0] != "c1"  # doc1 is excluded
    assert all(n is not None and n[0] in {f"c{i}" for i in range(0, 20, 2)} for n in nearest)


def test_state_lookups_take_more_values_than_sqlite_can_bind(rag_home: Path) -> None:
    from rag_app.store.state import CollectionState

    state = CollectionState(rag_home / "state.sqlite")
    many = [f"v{i}" for i in range(260_000)]  # past this build's 250,000 (SQLite's own: 32,766)
    assert state.children_with_text(many, ["/a.md"]) == {}
    assert state.get_many(many) == {}
    assert state.duplicate_sources(many) == {}
    state.close()
