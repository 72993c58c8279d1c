from rag_app.retrieval.context import build_passages, window_around
from rag_app.types import Chunk, ScoredChunk


def words(text: str) -> int:
    return len(text.split())


def _chunk(id: str, text: str, parent: str | None = None) -> Chunk:
    return Chunk(id=id, text=text, source=f"/docs/{id}.md", title="T", parent_id=parent)


class Parents:
    def __init__(self, *chunks: Chunk) -> None:
        self.chunks = {c.id: c for c in chunks}

    def get_many(self, ids: list[str]) -> dict[str, Chunk]:
        return {i: self.chunks[i] for i in ids if i in self.chunks}


def test_window_keeps_the_part_around_the_child() -> None:
    parent = " ".join(f"w{i}" for i in range(1000))
    child = "w700 w701 w702"
    window = window_around(parent, child, max_tokens=50, count_tokens=words)
    assert child in window
    assert words(window) <= 50
    assert window_around("short text", "short", 50, words) == "short text"


def test_parents_replace_children_once_and_respect_the_budget() -> None:
    parent = _chunk("p1", "parent one " * 10)
    other = _chunk("p2", "parent two " * 10)
    hits = [
        ScoredChunk(chunk=_chunk("c1", "parent one", "p1"), score=0.9),
        ScoredChunk(chunk=_chunk("c2", "parent one", "p1"), score=0.8),
        ScoredChunk(chunk=_chunk("c3", "parent two", "p2"), score=0.7),
        ScoredChunk(chunk=_chunk("c4", "orphan child"), score=0.6),
    ]
    passages = build_passages(hits, Parents(parent, other), budget_tokens=1000, count_tokens=words)
    assert [p.text for p in passages] == [parent.text, other.text, "orphan child"]
    assert [p.n for p in passages] == [1, 2, 3]
    tight = build_passages(hits, Parents(parent, other), budget_tokens=25, count_tokens=words)
    assert sum(words(p.text) for p in tight) <= 25
    assert tight[0].text == parent.text
