import re
from pathlib import Path

import pytest

from ingest.loaders import IngestError, clean_text, discover, load_document


def test_clean_text_repairs_extraction_noise() -> None:
    assert clean_text("infor-\nmation\x07 here  \r\n\n\n\nnext") == "information here\n\nnext"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", b"", "empty file"),
        ("binary.txt", b"abc\x00\x01\x02", "binary"),
        ("latin1.md", "caf\xe9".encode("latin-1"), "UTF-8"),
        ("image.png", b"\x89PNG", "unsupported file type"),
        ("broken.pdf", b"%PDF-1.4 not really", "PDF"),
        ("blank.md", b"   \n\n  ", "no extractable text"),
    ],
)
def test_bad_files_get_a_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestError, match=reason):
        load_document(path, max_bytes=10**6)


def test_too_large_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 2000)
    with pytest.raises(IngestError, match="too large"):
        load_document(path, max_bytes=1000)


def test_html_headings_become_structure(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Page</title><script>x()</script></head>"
        "<body><h1>Top</h1><p>Intro.</p><h2>Sub</h2><p>Body text.</p></body></html>"
    )
    doc = load_document(path, 10**6)
    assert doc.title == "Page" and doc.doc_type == "html"
    assert "# Top" in doc.text and "## Sub" in doc.text and "x()" not in doc.text


def test_discover_walks_folders_and_skips_hidden(docs_dir: Path) -> None:
    (docs_dir / ".hidden").mkdir()
    (docs_dir / ".hidden" / "secret.md").write_text("# no")
    (docs_dir / "image.png").write_bytes(b"\x89PNG")
    found = {p.name: root for p, root in discover([docs_dir])}
    assert set(found) == {"garden.md", "tools.md", "notes.txt"}
    assert all(root == docs_dir.resolve() for root in found.values())
    with pytest.raises(FileNotFoundError, match="nowhere"):
        discover([docs_dir / "nowhere"])


def test_include_and_exclude_globs(docs_dir: Path) -> None:
    def names(include: list[str], exclude: list[str]) -> set[str]:
        return {p.name for p, _ in discover([docs_dir], include, exclude)}

    assert names(["*.md"], []) == {"garden.md", "tools.md"}
    assert names([], ["guide/*"]) == {"garden.md", "notes.txt"}
    assert names(["*.md"], ["tools.md"]) == {"garden.md"}
    named = discover([docs_dir / "notes.txt"], ["*.md"], [])
    assert [p.name for p, root in named] == ["notes.txt"] and named[0][1] is None


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("secret", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as out:
        writer.write(out)
    with pytest.raises(IngestError, match="encrypted"):
        load_document(path, 10**6)


def test_real_pdf_keeps_pages_and_chunks_carry_them() -> None:
    from ingest.chunking import ChunkSizes, chunk_document
    from tests.conftest import SHARED_DATA

    paper = SHARED_DATA / "aragog" / "papers" / "distilbert.pdf"
    doc = load_document(paper, 50 * 10**6)
    assert doc.doc_type == "pdf" and len(doc.pages) >= 5
    assert [p.number for p in doc.pages] == sorted(p.number for p in doc.pages)
    assert "DistilBERT" in doc.text
    assert not re.search(r"\w-\n\w", doc.text)  # words hyphenated across lines are rejoined

    def words(text: str) -> list[int]:
        return list(range(len(text.split())))

    _, children = chunk_document(doc, ChunkSizes(150, 20, 600), words)
    assert {c.page for c in children} == {p.number for p in doc.pages}
    first_page_text = doc.pages[0].text
    assert all(c.text in first_page_text for c in children if c.page == 1)


def test_heading_anchors_of_site_generators_are_not_part_of_the_heading(tmp_path: Path) -> None:
    from ingest.chunking import ChunkSizes, chunk_document
    from tests.conftest import SHARED_DATA

    real = load_document(SHARED_DATA / "fastapi-docs" / "docs" / "python-types.md", 10**6)
    assert real.title == "Python Types Intro"
    assert "## Motivation\n" in real.text and "{ #" not in real.text

    path = tmp_path / "guide.md"
    path.write_text(
        "# Guide {#guide}\n\n## Setup {: #setup .wide }\n\nRun it.\n\n"
        "```python\nx = {'#': 1}  # a dict, not an anchor\n```\n"
    )
    doc = load_document(path, 10**6)
    parents, _ = chunk_document(doc, ChunkSizes(64, 8, 256), lambda t: list(range(len(t))))
    assert doc.title == "Guide" and [p.section for p in parents] == ["Guide > Setup"]
    assert "x = {'#': 1}  # a dict, not an anchor" in doc.text
