"""What every format module shares: the refusal type, the parsed result, text clean-up, and
Markdown tables (PDF, DOCX, PPTX, XLSX and CSV tables all end up as one)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time

from rag_app.errors import InvalidInput


class IngestError(InvalidInput):
    """A file cannot be ingested; the message is the reason, for one line of the report."""


@dataclass(frozen=True)
class Page:
    """A page of a PDF or a slide of a deck: the unit a citation points at."""

    number: int
    """1-based page or slide number."""
    text: str
    heading: str | None = None
    """The slide's title; None for PDF pages (their headings are not marked up)."""


@dataclass(frozen=True)
class Parsed:
    text: str
    """The whole document as Markdown-ish text (headings as `#` lines, tables as Markdown)."""
    title: str | None = None
    pages: list[Page] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Problems that did not stop the file, e.g. pages without a text layer."""
    tables: int = 0
    """Tables written as Markdown tables."""


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_HYPHEN_BREAK = re.compile(r"(\w)[-\u00ad\x02]\n(\w)")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """Normalise what extraction leaves behind without touching Markdown structure. Words
    hyphenated across lines are rejoined, whether the hyphen is a plain one, a soft hyphen
    or the STX mark pdfium writes for a hyphen it found at a line end."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    text = _CONTROL.sub("", text.replace("\u00ad", ""))
    text = _TRAILING_SPACE.sub("\n", text)
    return _MANY_BLANK_LINES.sub("\n\n", text).strip()


def _cell(value: object) -> str:
    """One table cell on one line, with the pipe escaped so it cannot end the cell."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime) and value.time() == time():
        value = value.date()
    return " ".join(str(value).split()).replace("|", "\\|")


def _header_rows(rows: list[list[str]]) -> int:
    """How many leading rows make the header: a table whose first rows hold no figures and
    a blank first cell ("", "Three Months Ended", ...) before the row of dates is common in
    financial statements; they are merged column by column into one header row."""
    count = 1
    while (
        count < len(rows) - 1
        and not rows[count][0]
        and not any(_is_figure(c) and not YEAR.match(c) for c in rows[count])
    ):
        count += 1
    return count


_FIGURE = re.compile(r"^[($\-–—]*\s*[\d.,]+\s*%?\)?$")
YEAR = re.compile(r"^(19|20)\d\d$")
"""A year, which is a figure in form but a label in tables and references."""


def _is_figure(cell: str) -> bool:
    return bool(_FIGURE.match(cell))


_CURRENCY = {"$", "€", "£", "¥"}
_CLOSERS = {"%", ")", "%)"}


def markdown_table(rows: Iterable[Sequence[object]]) -> str:
    """Rows (the first ones the header) as a Markdown table, or "" when nothing is left.

    Extracted tables carry noise that would make a reader lose the columns: fully empty rows
    and columns (pdfplumber's spacer columns), and currency signs or percent marks in a cell
    of their own next to the figure they belong to ("$" | "81,797"); those are removed or
    joined, and short rows are padded."""
    grid = [[_cell(c) for c in row] for row in rows]
    grid = [row for row in grid if any(row)]
    if not grid:
        return ""
    width = max(len(row) for row in grid)
    grid = [row + [""] * (width - len(row)) for row in grid]
    for row in grid:
        for i, value in enumerate(row):
            if value in _CURRENCY:
                after = next((j for j in range(i + 1, width) if row[j]), None)
                if after is not None and _is_figure(row[after]):
                    row[after], row[i] = f"{value}{row[after]}", ""
            elif value in _CLOSERS:
                before = next((j for j in range(i - 1, -1, -1) if row[j]), None)
                if before is not None and _is_figure(row[before]):
                    row[before], row[i] = f"{row[before]}{value}", ""
    keep = [i for i in range(width) if any(row[i] for row in grid)]
    grid = [[row[i] for i in keep] for row in grid]
    if len(grid) == 1:
        return "| " + " | ".join(grid[0]) + " |"
    count = _header_rows(grid)
    header = [" ".join(filter(None, column)) for column in zip(*grid[:count], strict=True)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in grid[count:]]
    return "\n".join(lines)


def unreadable(kind: str, err: Exception) -> IngestError:
    """The refusal for a file of `kind` (DOCX, PPTX, XLSX) that its library cannot open: the
    libraries raise zipfile, lxml, KeyError and their own errors alike, so the type is named."""
    return IngestError(f"not a readable {kind} file ({type(err).__name__}: {err})")


def decode_text(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise IngestError("binary content (NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise IngestError(f"not valid UTF-8 (byte {err.start})") from None
