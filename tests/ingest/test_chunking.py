from pathlib import Path

import numpy as np
import pytest

from ingest.chunking import ChunkSizes, chunk_document
from ingest.loaders import load_document


def words(text: str) -> list[int]:
    return list(range(len(text.split())))


def test_markdown_sections_keep_their_heading_path(docs_dir: Path) -> None:
    doc = load_document(docs_dir / "garden.md", max_bytes=10**6)
    assert doc.title == "Gardening Handbook"
    parents, children = chunk_document(doc, ChunkSizes(64, 8, 256), words)
    sections = [p.section for p in parents]
    assert "Gardening Handbook > Compost > Turning the pile" in sections
    assert "Gardening Handbook > Watering" in sections
    parent_ids = {p.id for p in parents}
    assert children and all(c.parent_id in parent_ids for c in children)
    turning = next(c for c in children if "pitchfork" in c.text)
    assert turning.section == "Gardening Handbook > Compost > Turning the pile"
    assert turning.search_text().startswith("Gardening Handbook > Compost > Turning the pile\n")


def test_a_slash_in_a_heading_is_not_a_level_of_the_path(tmp_path: Path) -> None:
    path = tmp_path / "io.md"
    path.write_text("# Manual\n\n## Input/Output\n\n### TCP/IP ports\n\nPort 80 is open.\n")
    parents, _ = chunk_document(load_document(path, 10**6), ChunkSizes(64, 8, 256), words)
    assert [p.section for p in parents] == ["Manual > Input/Output > TCP/IP ports"]


def test_long_sections_become_windows_and_children_respect_the_size(tmp_path: Path) -> None:
    body = " ".join(f"Sentence number {i} is here." for i in range(400))
    path = tmp_path / "long.md"
    path.write_text(f"# Long\n\n## Part\n\n{body}\n")
    parents, children = chunk_document(load_document(path, 10**6), ChunkSizes(50, 10, 200), words)
    assert len(parents) > 5
    assert max(len(p.text.split()) for p in parents) <= 200
    assert max(len(c.text.split()) for c in children) <= 50
    assert all(p.section == "Long > Part" for p in parents)


def test_ids_are_stable_and_flat_mode_has_no_parents(docs_dir: Path) -> None:
    doc = load_document(docs_dir / "garden.md", 10**6)
    first = chunk_document(doc, ChunkSizes(64, 8, 256), words)
    again = chunk_document(doc, ChunkSizes(64, 8, 256), words)
    assert [c.id for c in first[1]] == [c.id for c in again[1]]
    parents, children = chunk_document(doc, ChunkSizes(64, 8, 256, parent_child=False), words)
    assert parents == [] and children and all(c.parent_id is None for c in children)


def test_recursive_splitting_ignores_headings_and_cuts_code(tmp_path: Path) -> None:
    code = "\n".join(f"x{i} = {i}" for i in range(20))
    path = tmp_path / "doc.md"
    path.write_text(f"# Guide\n\n## Setup\n\nRun this:\n\n```python\n{code}\n```\n")
    doc = load_document(path, 10**6)
    _, structured = chunk_document(doc, ChunkSizes(40, 0, 400), words)
    _, recursive = chunk_document(doc, ChunkSizes(40, 0, 400, splitter="recursive"), words)
    assert structured[0].section == "Guide > Setup"
    assert any("x0 = 0" in c.text and "x19 = 19" in c.text for c in structured)  # kept whole
    assert all(c.section is None for c in recursive)
    assert not any("x0 = 0" in c.text and "x19 = 19" in c.text for c in recursive)


def test_semantic_splitting_cuts_where_the_topic_changes(tmp_path: Path) -> None:
    path = tmp_path / "doc.txt"
    path.write_text(
        "Apples are red. Apples are sweet. Apples grow on trees. Boats float. Boats have sails."
    )

    def embed(texts: list[str]) -> np.ndarray:  # one direction per topic
        return np.array([[1.0, 0.0] if "Apples" in t else [0.0, 1.0] for t in texts])

    sizes = ChunkSizes(200, 0, 400, splitter="semantic")
    _, children = chunk_document(load_document(path, 10**6), sizes, words, embed)
    assert [c.text.strip() for c in children] == [
        "Apples are red. Apples are sweet. Apples grow on trees.",
        "Boats float. Boats have sails.",
    ]
    with pytest.raises(ValueError, match="semantic chunking needs"):
        chunk_document(load_document(path, 10**6), sizes, words)
