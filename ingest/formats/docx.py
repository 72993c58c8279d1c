"""DOCX: paragraphs in document order, headings from their styles, tables as Markdown.

A heading is a paragraph whose style (or a style it is based on) is a "Heading N" style or
carries an outline level, which is how Word marks headings in every language ("Überschrift 1"
keeps outline level 0); it becomes a `#` line, so the chunker's heading path follows the
document's own outline. The Title style gives the document title.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ingest.formats.common import Parsed, clean_text, markdown_table, unreadable

_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _outline_level(element: Any) -> int | None:
    """Word's 0-based outline level on a paragraph's or style's properties (9 = body)."""
    values = element.xpath("./w:pPr/w:outlineLvl/@w:val")
    if values and str(values[0]).isdigit() and int(values[0]) < 9:
        return int(values[0]) + 1
    return None


def heading_level(paragraph: Any) -> int | None:
    """1-9 for a heading paragraph, None for body text."""
    direct = _outline_level(paragraph._p)
    if direct is not None:
        return direct
    style = paragraph.style
    while style is not None:
        match = _HEADING_STYLE.match(style.name or "")
        if match:
            return int(match.group(1))
        level = _outline_level(style.element)
        if level is not None:
            return level
        style = style.base_style
    return None


def _style_name(paragraph: Any) -> str:
    return (paragraph.style.name or "") if paragraph.style is not None else ""


def _is_list_item(paragraph: Any) -> bool:
    return "list" in _style_name(paragraph).lower() or bool(paragraph._p.xpath("./w:pPr/w:numPr"))


def _table_rows(table: Any) -> list[list[str]]:
    """Cell texts row by row; a cell merged across columns is written once (python-docx
    repeats the same cell for every column it spans)."""
    rows = []
    for row in table.rows:
        seen: set[int] = set()
        cells = []
        for cell in row.cells:
            cells.append("" if id(cell._tc) in seen else cell.text)
            seen.add(id(cell._tc))
        rows.append(cells)
    return rows


def load(data: bytes) -> Parsed:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as err:  # whatever the library raises for a broken file
        raise unreadable("DOCX", err) from None
    title = (document.core_properties.title or "").strip() or None
    blocks: list[str] = []
    tables = 0
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            markdown = markdown_table(_table_rows(block))
            if markdown:
                blocks.append(markdown)
                tables += 1
            continue
        text = block.text.strip()
        if not text:
            continue
        if _style_name(block) == "Title":
            title = title or text
            continue
        level = heading_level(block)
        if level is not None:
            blocks.append(f"{'#' * level} {' '.join(text.split())}")
        elif _is_list_item(block):
            blocks.append(f"- {text}")
        else:
            blocks.append(text)
    # List items of one list stay together as one Markdown list.
    text = "\n\n".join(blocks).replace("\n\n- ", "\n- ")
    return Parsed(text=clean_text(text), title=title, tables=tables)
