"""DOCX, PPTX, XLSX and CSV, made from a real text (FastAPI's CORS page) the way a person's
own files are made: Word headings and lists, one slide per section, a sheet of figures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.chunking import ChunkSizes, chunk_document
from ingest.formats.common import IngestError
from ingest.loaders import load_document
from tests.conftest import SHARED_DATA

CORS = SHARED_DATA / "fastapi-docs" / "docs" / "tutorial" / "cors.md"
ARGUMENTS = [
    ["Argument", "Default", "Meaning"],
    ["allow_origins", "[]", "Origins permitted to make cross-origin requests"],
    ["allow_methods", "['GET']", "HTTP methods allowed for cross-origin requests"],
    ["max_age", "600", "Seconds browsers may cache CORS responses"],
]


def sections(markdown: str) -> list[tuple[int, str, list[str]]]:
    """(level, heading, paragraphs) of a Markdown file, the `{ #anchor }` suffixes dropped."""
    out: list[tuple[int, str, list[str]]] = []
    for block in markdown.split("\n\n"):
        match = re.match(r"^(#+) (.+?)(?: \{ #[\w-]+ \})?$", block.strip())
        if match:
            out.append((len(match.group(1)), match.group(2), []))
        elif out and block.strip() and not block.startswith("{*"):
            out[-1][2].append(block.strip())
    return out


def words(text: str) -> list[int]:
    return list(range(len(text.split())))


def cors_docx(path: Path, heading_style: str | None = None) -> Path:
    """The CORS page as a Word document; with `heading_style`, level-2 headings use a custom
    style that is a heading only by its outline level (as localised Word styles are)."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    document.core_properties.title = ""
    custom = None
    if heading_style:
        custom = document.styles.add_style(heading_style, WD_STYLE_TYPE.PARAGRAPH)
        outline = OxmlElement("w:outlineLvl")
        outline.set(qn("w:val"), "1")
        custom.element.get_or_add_pPr().append(outline)
    for level, heading, paragraphs in sections(CORS.read_text()):
        if level == 1:
            document.add_paragraph(heading, style="Title")
        elif custom is not None and level == 2:
            document.add_paragraph(heading, style=custom)
        else:
            document.add_heading(heading, level=level - 1)
        for paragraph in paragraphs:
            for line in paragraph.split("\n"):
                if line.startswith("* "):
                    document.add_paragraph(line[2:], style="List Bullet")
                else:
                    document.add_paragraph(line)
    table = document.add_table(rows=len(ARGUMENTS), cols=3)
    for row, values in zip(table.rows, ARGUMENTS, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.save(str(path))
    return path


@pytest.mark.parametrize("custom_style", [None, "Überschrift 1"])
def test_docx_headings_become_the_heading_path(tmp_path: Path, custom_style: str | None) -> None:
    doc = load_document(cors_docx(tmp_path / "cors.docx", custom_style), 10**7)
    assert doc.doc_type == "docx" and doc.title == "CORS (Cross-Origin Resource Sharing)"
    assert "# Origin" in doc.text and "# Use `CORSMiddleware`" in doc.text
    assert "- `http://localhost`\n- `https://localhost`" in doc.text  # one list, kept together
    assert doc.tables == 1 and "| allow_methods | ['GET'] |" in doc.text
    _, children = chunk_document(doc, ChunkSizes(60, 10, 300), words)
    paths = {c.section for c in children}
    assert "Wildcards" in paths and "Use `CORSMiddleware`" in paths
    wildcard = next(c for c in children if "wildcard" in c.text and c.section == "Wildcards")
    assert wildcard.search_text().startswith("CORS (Cross-Origin Resource Sharing) > Wildcards")


def cors_pptx(path: Path) -> Path:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    for level, heading, paragraphs in sections(CORS.read_text()):
        if level != 2:
            continue
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = heading
        body = slide.placeholders[1].text_frame
        body.text = paragraphs[0] if paragraphs else ""
        slide.notes_slide.notes_text_frame.text = f"Speaker notes for {heading}."
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Arguments"
    shape = slide.shapes.add_table(4, 3, Inches(0.5), Inches(1.5), Inches(9), Inches(3))
    for r, values in enumerate(ARGUMENTS):
        for c, value in enumerate(values):
            shape.table.cell(r, c).text = value
    deck.save(str(path))
    return path


def test_pptx_slides_are_cited_like_pages_under_their_titles(tmp_path: Path) -> None:
    doc = load_document(cors_pptx(tmp_path / "cors.pptx"), 10**7)
    assert doc.title == "Origin" and doc.tables == 1
    titles = [p.heading for p in doc.pages]
    assert titles[:2] == ["Origin", "Steps"] and titles[-1] == "Arguments"
    assert [p.number for p in doc.pages] == list(range(1, len(doc.pages) + 1))
    origin = doc.pages[0].text
    assert origin.startswith("An origin is the combination") and "Speaker notes" in origin
    assert "| max_age | 600 |" in doc.pages[-1].text
    _, children = chunk_document(doc, ChunkSizes(60, 10, 300), words)
    assert {(c.page, c.section) for c in children} >= {(1, "Origin"), (len(titles), "Arguments")}


def test_xlsx_sheets_become_tables_under_their_names(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "CORS arguments"
    for row in ARGUMENTS:
        sheet.append(row)
    other = book.create_sheet("Quarters")
    other.append(["Quarter", "Revenue", "Margin"])
    other.append(["Q1", 1200.0, 0.25])
    other.append([None, None, None])
    other.append(["Q2", 1350, 0.3])
    book.create_sheet("Empty")
    book.save(tmp_path / "book.xlsx")
    doc = load_document(tmp_path / "book.xlsx", 10**7)
    assert doc.tables == 2 and doc.title == "book"  # no title set: the file name
    assert "# Quarters\n\n| Quarter | Revenue | Margin |\n|---|---|---|\n| Q1 | 1200 | 0.25 |" in (
        doc.text
    )
    _, children = chunk_document(doc, ChunkSizes(60, 10, 300), words)
    assert {c.section for c in children} == {"CORS arguments", "Quarters"}


def test_csv_with_semicolons_is_one_table(tmp_path: Path) -> None:
    path = tmp_path / "arguments.csv"
    path.write_text("\n".join(";".join(row) for row in ARGUMENTS) + "\n")
    doc = load_document(path, 10**7)
    assert doc.text.split("\n")[:3] == [
        "| Argument | Default | Meaning |",
        "|---|---|---|",
        "| allow_origins | [] | Origins permitted to make cross-origin requests |",
    ]


@pytest.mark.parametrize("suffix", [".docx", ".pptx", ".xlsx"])
def test_broken_office_files_fail_with_their_format_named(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"PK\x03\x04 not really a zip archive")
    with pytest.raises(IngestError, match=f"not a readable {suffix[1:].upper()} file"):
        load_document(path, 10**7)
