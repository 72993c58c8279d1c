"""PDF: the text of every page a viewer can show, tables as Markdown, and a warning for each
page that has no text to read.

Two text extractors, in the order `bench/pdf_bench.py` chose by speed and text quality on
real files (see docs/benchmarks.md): pdfium (pypdfium2) first, pypdf when pdfium cannot open
the file; pypdf also gets a second look at pages where pdfium found no text. Both open PDFs
that carry only an owner password (an empty user password: every viewer opens them, and so
do public reports and papers very often); a PDF that needs a real password fails, saying so.
Pages that still have no text are scans: OCR reads them when `tesseract` is installed
(`ingest.formats.ocr`), otherwise the file's report names them.

Tables come from pdfplumber, only on pages whose text looks like a table (`looks_tabular`):
its detection cost 0.25 s a page on the real-world corpus and 0.5-0.8 s on ARAGOG's papers,
a hundred times pdfium's text of a page. A detected table is kept only when it is plausible
(`plausible_table`: charts drawn with lines are "tables" to the detector). On such a page
the text outside the tables and the tables as Markdown are laid out in reading order.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ingest.formats.common import (
    YEAR,
    IngestError,
    Page,
    Parsed,
    clean_text,
    markdown_table,
)
from ingest.formats.ocr import Ocr

# pypdf and pdfminer (under pdfplumber) log every repair they make to a damaged file
# ("incorrect startxref pointer", "Could not get FontBBox"); the report's one line per file
# says what matters, so only their errors get through.
for _name in ("pypdf", "pdfminer"):
    logging.getLogger(_name).setLevel(logging.ERROR)

PageTexts = list[str]
"""The raw text of each page, in page order."""


class PasswordRequired(IngestError):
    def __init__(self) -> None:
        super().__init__("encrypted PDF: it needs a password to open, and none can be given")


@dataclass(frozen=True)
class PdfOptions:
    tables: bool = True
    """Find tables and write them as Markdown tables."""
    ocr: Ocr | None = None
    """Reads pages without a text layer; None reports them instead."""


def pdfium_pages(data: bytes) -> tuple[PageTexts, str | None]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as err:
        if "password" in str(err).lower():
            raise PasswordRequired() from None
        raise
    try:
        texts = []
        for page in pdf:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_bounded())
            textpage.close()
            page.close()
        title = pdf.get_metadata_dict().get("Title")
    finally:
        pdf.close()
    return texts, title


def pypdf_pages(data: bytes, numbers: Sequence[int] | None = None) -> tuple[PageTexts, str | None]:
    """Every page's text, or only those of the 0-based `numbers` (the rest left empty)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise PasswordRequired()
    wanted = set(range(len(reader.pages)) if numbers is None else numbers)
    texts = [
        (page.extract_text() or "") if i in wanted else "" for i, page in enumerate(reader.pages)
    ]
    title = reader.metadata.title if reader.metadata else None
    return texts, title


Extractor = Callable[[bytes], tuple[PageTexts, str | None]]
EXTRACTORS: dict[str, Extractor] = {"pdfium": pdfium_pages, "pypdf": pypdf_pages}
"""By preference: the first that opens the file gives the text."""


def _one_line(err: BaseException) -> str:
    return " ".join(f"{type(err).__name__}: {err}".split())[:200]


def _extract(data: bytes) -> tuple[str, PageTexts, str | None]:
    """(the extractor that read the file, its page texts, the metadata title)."""
    errors = []
    for name, extract in EXTRACTORS.items():
        try:
            return (name, *extract(data))
        except PasswordRequired:
            raise
        except Exception as err:  # any parser failure: the next parser may read the file
            errors.append(f"{name}: {_one_line(err)}")
    raise IngestError("unreadable PDF (" + "; ".join(errors) + ")")


def _fill_blank_pages(data: bytes, texts: PageTexts) -> None:
    """pypdf's reading of the pages pdfium found empty (it sometimes decodes fonts pdfium
    does not); silently nothing when pypdf cannot open the file either."""
    blank = [i for i, text in enumerate(texts) if not text.strip()]
    if not blank:
        return
    try:
        second, _ = pypdf_pages(data, blank)
    except Exception:  # the first parser's text stands; the pages are reported as blank
        return
    for i in blank:
        texts[i] = second[i]


_FIGURE_BODY = r"\(?[$€£]?\d[\d,]*(?:\.\d+)?%?\)?"
_NUMBER = re.compile(rf"(?<![\w.]){_FIGURE_BODY}(?![\w.])")
_FIGURE = re.compile(rf"^{_FIGURE_BODY}$")
_WORDS = re.compile(r"\w+")


def _figure_row(line: str) -> bool:
    """Two or more figures (years aside: references and dates are full of them), the last
    word one of them, as in "Net revenue $ 12,949 $ 15,321": a row of a table, where a line
    of prose that cites numbers ends in words or punctuation."""
    figures = [f for f in _NUMBER.findall(line) if not YEAR.match(f.strip("()$€£%"))]
    last = line.split()[-1] if line.split() else ""
    return len(figures) >= 2 and _FIGURE.match(last) is not None and not YEAR.match(last)


def looks_tabular(text: str) -> bool:
    """Four or more figure rows, and at least 15 % of the page's lines: statements and
    results tables, not a paper's prose that cites numbers (measured on ARAGOG's papers:
    30 of 304 pages pass; a looser rule sent 205 to the 0.8 s-a-page table detection)."""
    lines = [line for line in text.splitlines() if line.strip()]
    rows = sum(map(_figure_row, lines))
    return rows >= 4 and rows >= 0.15 * len(lines)


def _inside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    x = (obj["x0"] + obj["x1"]) / 2
    y = (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)


def plausible_table(markdown: str, page_words: set[str]) -> bool:
    """A table worth writing: two columns and two body rows or more, at least half its cells
    filled, short cells (median 8 words, none over 40), and cut at word boundaries (nine in
    ten of its words are words of the page's own text). Ruled charts and figures that the
    detector takes for tables fail the last two: their "cells" are long runs of labels or
    fragments of words."""
    lines = markdown.split("\n")
    if len(lines) < 4:
        return False
    rows = [line.strip("| ").split(" | ") for line in lines[2:]]
    cells = [cell.strip() for row in rows for cell in row]
    if len(rows[0]) < 2 or sum(map(bool, cells)) < 0.5 * len(cells):
        return False
    lengths = sorted(len(cell.split()) for cell in cells if cell)
    if lengths[len(lengths) // 2] > 8 or lengths[-1] > 40:
        return False
    words = _WORDS.findall(markdown.lower())
    return sum(w in page_words for w in words) >= 0.9 * len(words)


def unstack_rows(rows: list[list[str | None]]) -> list[list[str | None]]:
    """Rows drawn as one box per column hold one line per real row in each cell ("Files\n
    Directories" | "17243\n1005"): when every filled cell of a row has the same number of
    lines, the row becomes that many rows, so each label stays beside its figure."""
    out: list[list[str | None]] = []
    for row in rows:
        split = [(cell or "").split("\n") for cell in row]
        counts = {len(lines) for lines, cell in zip(split, row, strict=True) if cell}
        if len(counts) == 1 and (count := counts.pop()) > 1:
            out += [
                [lines[i] if len(lines) == count else "" for lines in split] for i in range(count)
            ]
        else:
            out.append(row)
    return out


def _table_page(page: Any, page_text: str) -> tuple[str, int] | None:
    """The page as text with its tables in Markdown, or None when it has no plausible table."""
    page_words = set(_WORDS.findall(page_text.lower()))
    tables = []
    for table in page.find_tables():
        markdown = markdown_table(unstack_rows(table.extract()))
        if plausible_table(markdown, page_words):
            tables.append((table.bbox, markdown))
    if not tables:
        return None
    tables.sort(key=lambda item: item[0][1])
    boxes = [bbox for bbox, _ in tables]
    outside = page.filter(lambda obj: obj.get("object_type") != "char" or not _inside(obj, boxes))
    parts: list[str] = []
    top = 0.0
    for (_, table_top, _, table_bottom), markdown in tables:
        if table_top > top:
            band = outside.crop((0, top, page.width, min(table_top, page.height)))
            parts.append(band.extract_text() or "")
        parts.append(f"\n\n{markdown}\n\n")
        top = max(top, table_bottom)
    if top < page.height:
        parts.append(outside.crop((0, top, page.width, page.height)).extract_text() or "")
    return "\n".join(part for part in parts if part.strip()), len(tables)


def extract_tables(data: bytes, texts: PageTexts) -> int:
    """Rewrites the tabular pages of `texts` in place; the number of tables found."""
    candidates = [i for i, text in enumerate(texts) if looks_tabular(text)]
    if not candidates:
        return 0
    import pdfplumber

    found = 0
    with pdfplumber.open(io.BytesIO(data), password="") as pdf:
        for i in candidates:
            result = _table_page(pdf.pages[i], texts[i])
            if result is not None:
                texts[i], count = result
                found += count
    return found


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7] -> "1-3, 7"."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


_FILE_NAME_TITLE = re.compile(r"(\.(docx?|pdf|tex|dvi|ps|indd|rtf|odt)$)|^untitled$", re.I)


def _useful_title(title: str | None) -> str | None:
    """Metadata titles such as "Microsoft Word - report.docx" or "untitled" say less than
    the file name does."""
    title = " ".join((title or "").split())
    if not title or _FILE_NAME_TITLE.search(title) or title.lower().startswith("microsoft "):
        return None
    return title


def _blank_page_warning(blank: list[int], pages: int, ocr: bool) -> str:
    them = "them" if len(blank) > 1 else "it"
    remedy = (
        f"OCR found no text on {them} either"
        if ocr
        else f"OCR is needed to read {them} (install tesseract-ocr)"
    )
    if len(blank) == pages:
        raise IngestError(f"no text layer on any of its {pages} pages (a scan?): {remedy}")
    plural = "s" if len(blank) > 1 else ""
    return f"no text layer on page{plural} {_ranges([i + 1 for i in blank])}: {remedy}"


def load(data: bytes, options: PdfOptions) -> Parsed:
    extractor, texts, title = _extract(data)
    if not texts:
        raise IngestError("PDF without pages")
    if extractor != "pypdf":
        _fill_blank_pages(data, texts)
    warnings = []
    tables = 0
    if options.tables:
        try:
            tables = extract_tables(data, texts)
        except Exception as err:  # the page text stands without its tables
            warnings.append(f"tables not extracted ({_one_line(err)})")
    pages = [clean_text(text) for text in texts]
    blank = [i for i, text in enumerate(pages) if not text]
    if blank and options.ocr is not None:
        for i, text in zip(blank, options.ocr.read_pdf_pages(data, blank), strict=True):
            pages[i] = clean_text(text)
        blank = [i for i, text in enumerate(pages) if not text]
    if blank:
        warnings.append(_blank_page_warning(blank, len(pages), options.ocr is not None))
    kept = [Page(i + 1, text) for i, text in enumerate(pages) if text]
    return Parsed(
        text="\n\n".join(page.text for page in kept),
        title=_useful_title(title),
        pages=kept,
        warnings=warnings,
        tables=tables,
    )
