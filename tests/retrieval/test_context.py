from rag_app.retrieval.context import build_passages, window_around
from rag_app.types import Chunk, ScoredChunk


def words(text: str) -> int:
    return len(text.split())


def _chunk(id: str, text: str, parent: str | None = None) -> Chunk:
    return Chunk(id=id, text=text, source=f"/docs/{id}.md", title="T", parent_id=parent)


def _words_parent(id: str, letter: str, count: int) -> Chunk:
    """A parent of `count` distinct words (a0 a1 ...), one token each under `words`."""
    return _chunk(id, " ".join(f"{letter}{i}" for i in range(count)))


def _hit(id: str, text: str, parent: str, score: float) -> ScoredChunk:
    return ScoredChunk(chunk=_chunk(id, text, parent), score=score)


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
    assert [p.chunk_id for p in passages] == ["p1", "p2", "c4"]  # what the text came from
    tight = build_passages(hits, Parents(parent, other), budget_tokens=25, count_tokens=words)
    assert sum(words(p.text) for p in tight) <= 25
    assert tight[0].text == parent.text


def test_a_parent_cut_to_a_few_words_is_left_out_but_a_short_one_fits_whole() -> None:
    from rag_app.retrieval.context import MIN_WINDOW_TOKENS

    long_one, long_two = _words_parent("p1", "a", 100), _words_parent("p2", "b", 200)
    hits = [_hit("c1", "a50 a51", "p1", 0.9), _hit("c2", "b100 b101", "p2", 0.8)]
    hits.append(ScoredChunk(chunk=_chunk("c3", "orphan child"), score=0.7))
    budget = 100 + MIN_WINDOW_TOKENS // 2  # the second parent would be cut to a fragment
    passages = build_passages(hits, Parents(long_one, long_two), budget, count_tokens=words)
    assert [p.source for p in passages] == ["/docs/p1.md", "/docs/c3.md"]
    assert passages[0].text == long_one.text and passages[1].text == "orphan child"


def test_a_passage_limit_shares_the_budget_among_the_hits() -> None:
    hits = [_hit("c1", "a150 a151", "p1", 0.9), _hit("c2", "b10 b11", "p2", 0.8)]
    parents = Parents(_words_parent("p1", "a", 300), _words_parent("p2", "b", 300))
    alone = build_passages(hits, parents, budget_tokens=200, count_tokens=words)
    assert [p.chunk_id for p in alone] == ["p1"]  # the first window took the whole budget
    shared = build_passages(hits, parents, 200, count_tokens=words, passage_tokens=100)
    assert [p.chunk_id for p in shared] == ["p1", "p2"]
    assert all(words(p.text) <= 100 for p in shared)
    assert "a150 a151" in shared[0].text and "b10 b11" in shared[1].text
