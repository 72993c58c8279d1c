"""PPTX: one section per slide, named by its title; text in reading order, tables as
Markdown, speaker notes last. A slide is cited like a PDF page, by its number."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any

from ingest.formats.common import Page, Parsed, clean_text, markdown_table, unreadable


def _reading_order(shapes: Iterable[Any]) -> list[Any]:
    return sorted(shapes, key=lambda s: (s.top or 0, s.left or 0))


def _shape_blocks(shapes: Iterable[Any], skip: Any) -> Iterator[tuple[str, bool]]:
    """(text, is_table) of each shape, groups opened, the title shape left out."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    for shape in _reading_order(shapes):
        if skip is not None and shape.shape_id == skip.shape_id:
            continue
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shape_blocks(shape.shapes, None)
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
            yield markdown_table(rows), True
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            lines = [
                "  " * p.level + ("- " if p.level else "") + "".join(r.text for r in p.runs)
                for p in shape.text_frame.paragraphs
            ]
            yield "\n".join(line for line in lines if line.strip()), False


def load(data: bytes) -> Parsed:
    from pptx import Presentation

    try:
        deck = Presentation(io.BytesIO(data))
    except Exception as err:  # whatever the library raises for a broken file
        raise unreadable("PPTX", err) from None
    pages: list[Page] = []
    tables = 0
    for number, slide in enumerate(deck.slides, start=1):
        title_shape = slide.shapes.title
        title = " ".join(title_shape.text.split()) if title_shape is not None else ""
        blocks = []
        for text, is_table in _shape_blocks(slide.shapes, title_shape):
            if text.strip():
                blocks.append(text)
                tables += is_table
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                blocks.append(f"Notes: {notes}")
        body = clean_text("\n\n".join(blocks))
        if body:
            pages.append(Page(number, body, title or f"Slide {number}"))
    deck_title = (deck.core_properties.title or "").strip() or next(
        (p.heading for p in pages if p.heading and not p.heading.startswith("Slide ")), None
    )
    text = "\n\n".join(f"# {p.heading}\n\n{p.text}" for p in pages)
    return Parsed(text=text, title=deck_title, pages=pages, tables=tables)
