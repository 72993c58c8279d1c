from pathlib import Path

import numpy as np
import pytest

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


class _BusyCollection:
    """A Chroma collection whose configuration change meets SQLite's busy error `busy` times."""

    def __init__(self, busy: int, error: str = "database is locked") -> None:
        self.busy, self.error, self.modified = busy, error, 0
        self.configuration: dict[str, object] = {"hnsw": {"ef_search": 100}}

    def modify(self, configuration: dict[str, object]) -> None:
        if self.busy:
            self.busy -= 1
            raise RuntimeError(f"Database error: (code: 5) {self.error}")
        self.modified += 1


def test_a_busy_database_is_waited_out_and_any_other_error_is_raised_at_once() -> None:
    index = VectorIndex.__new__(VectorIndex)
    index._collection = _BusyCollection(busy=2)  # type: ignore[assignment]
    index.set_ef_search(300)
    assert index._collection.modified == 1  # type: ignore[attr-defined]
    index._collection = _BusyCollection(busy=1, error="disk I/O error")  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="disk I/O error"):
        index.set_ef_search(300)
    index._collection = _BusyCollection(busy=99)  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="database is locked"):
        index.set_ef_search(300)  # not for ever
