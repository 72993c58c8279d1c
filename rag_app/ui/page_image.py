"""A cited PDF page as an image, with the passage marked where it stands on the page.

A passage's text went through ingest (lines joined, hyphenated words rejoined, ligatures kept
or not, tables rewritten as Markdown), so it is not a substring of the page's text layer. Both
are compared as their letters and digits only, lower-cased: what extraction and ingest agree
on. The passage may also start before its cited page ends or further on (a parent section's
window), so the next pages are searched too.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw

from rag_app.errors import InvalidInput

if TYPE_CHECKING:
    import pypdfium2 as pdfium

PROBE_CHARS = 48
"""Letters and digits of the passage looked for at once: enough to be found once on a page."""
PROBES = 6
"""Probes tried, one after the other, when the passage's opening is not on the page (a heading
ingest wrote, a table it laid out anew)."""
LOOK_AHEAD = 2
"""Pages after the cited one searched for the passage."""
MARK = (255, 200, 0, 96)
"""Translucent yellow: the page stays readable under it."""


@dataclass(frozen=True)
class CitedPage:
    image: Image.Image
    number: int
    """1-based number of the page shown."""
    marked: bool
    """Whether the passage was found on the page and marked."""


def _letters(text: str) -> tuple[str, list[int]]:
    """`text`'s letters and digits, lower-cased, and the index in `text` of each."""
    kept: list[str] = []
    where: list[int] = []
    for i, char in enumerate(text):
        for part in unicodedata.normalize("NFKC", char):  # "ﬁ" is "fi"
            if part.isalnum():
                kept.append(part.lower())
                where.append(i)
    return "".join(kept), where


def find_passage(page_text: str, passage: str) -> tuple[int, int] | None:
    """The range [start, end) of `page_text` the passage covers, from the first of its probes
    found on the page to where its length says it ends (or the page does)."""
    page_key, where = _letters(page_text)
    passage_key, _ = _letters(passage)
    if not page_key or not passage_key:
        return None
    for offset in range(0, min(len(passage_key), PROBES * PROBE_CHARS), PROBE_CHARS):
        at = page_key.find(passage_key[offset : offset + PROBE_CHARS])
        if at >= 0:
            end = min(len(page_key), at + len(passage_key) - offset)
            return where[at], where[end - 1] + 1
    return None


def _mark(page: pdfium.PdfPage, passage: str, scale: float) -> Image.Image | None:
    """The page rendered with the passage's lines marked; None when its text layer does not
    hold the passage."""
    if page.get_rotation():
        return None  # its text boxes would need turning with the image; shown unmarked
    textpage = page.get_textpage()
    try:
        found = find_passage(textpage.get_text_range(), passage)
        if found is None:
            return None
        start, end = found
        rects = [textpage.get_rect(i) for i in range(textpage.count_rects(start, end - start))]
    finally:
        textpage.close()
    image = page.render(scale=scale).to_pil().convert("RGBA")
    overlay = Image.new("RGBA", image.size)
    draw = ImageDraw.Draw(overlay)
    # PDF points, origin at the bottom left of the media box; the image is the crop box.
    x0, _, _, y1 = page.get_cropbox()
    for left, bottom, right, top in rects:
        box = (left - x0 - 1, y1 - top - 1, right - x0 + 1, y1 - bottom + 1)
        draw.rectangle(tuple(v * scale for v in box), fill=MARK)
    return Image.alpha_composite(image, overlay).convert("RGB")


def render_cited_page(path: Path, page: int, passage: str, scale: float = 1.5) -> CitedPage:
    """Page `page` of the PDF at `path` with `passage` marked, or the first of the next
    `LOOK_AHEAD` pages that holds it; the cited page unmarked when none does."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        if not 1 <= page <= len(pdf):
            raise InvalidInput(f"{path.name} has no page {page}")
        for number in range(page, min(len(pdf), page + LOOK_AHEAD) + 1):
            marked = _mark(pdf[number - 1], passage, scale)
            if marked is not None:
                return CitedPage(marked, number, marked=True)
        image = pdf[page - 1].render(scale=scale).to_pil().convert("RGB")
        return CitedPage(image, page, marked=False)
    finally:
        pdf.close()
