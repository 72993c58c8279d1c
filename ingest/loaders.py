"""Read a file into a `SourceDocument`: clean text, title, hash, pages and warnings.

Every refusal is an `IngestError` whose message names the reason; the pipeline adds the file.
The parsing itself is done by one module per format in `ingest.formats`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

from ingest.formats.common import IngestError, Page, Parsed, clean_text, decode_text
from ingest.formats.ocr import Ocr

__all__ = ["IngestError", "Page", "ParseOptions", "SourceDocument", "clean_text", "parse"]

SUFFIXES = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "text",
    ".text": "text",
    ".rst": "text",
}
MARKDOWN_TYPES = frozenset({"markdown", "html", "docx", "xlsx"})
"""Types whose text marks headings with `#` lines, so chunking follows them."""
_FIRST_HEADING_TITLED = MARKDOWN_TYPES - {"xlsx"}
"""Of those, the ones whose first heading names the document when nothing else does (a
workbook's first heading is only its first sheet's name: the file name says more)."""


@dataclass(frozen=True)
class ParseOptions:
    pdf_tables: bool = True
    """Find tables in PDFs and write them as Markdown tables."""
    ocr: Ocr | None = None
    """Reads PDF pages without a text layer; None only reports them."""


@dataclass(frozen=True)
class SourceDocument:
    source: str
    text: str
    title: str
    doc_type: str
    content_hash: str
    mtime: float
    pages: list[Page] = field(default_factory=list)
    """PDF pages and slides, each cited by its number; empty for other types."""
    warnings: list[str] = field(default_factory=list)
    """What was read only in part (pages without a text layer, ...), for the report."""
    tables: int = 0


def _markdown_title(text: str, path: Path) -> str:
    match = re.search(r"^#\s+(.+?)\s*#*\s*$", text, flags=re.MULTILINE)
    return match.group(1).strip() if match else path.stem.replace("-", " ").replace("_", " ")


def _text(data: bytes) -> Parsed:
    return Parsed(text=clean_text(decode_text(data)))


_HEADING_ATTRIBUTES = re.compile(
    r"^(#{1,6}[ \t].*?)[ \t]*\{[ \t]*:?[ \t]*[#.][^{}\n]*\}[ \t]*$", re.MULTILINE
)


def _markdown(data: bytes) -> Parsed:
    """Markdown written for a site generator gives headings anchors, `## Setup { #setup }`
    (Python-Markdown's attr_list, Pandoc, kramdown): the reader sees "Setup", and so should
    the title, the heading path, the search text and the citation."""
    return Parsed(text=_HEADING_ATTRIBUTES.sub(r"\1", clean_text(decode_text(data))))


def _loader(doc_type: str, options: ParseOptions) -> Callable[[bytes], Parsed]:
    """The format's parser, imported only when a file of that type comes."""
    if doc_type == "pdf":
        from ingest.formats import pdf

        pdf_options = pdf.PdfOptions(tables=options.pdf_tables, ocr=options.ocr)
        return lambda data: pdf.load(data, pdf_options)
    if doc_type == "html":
        from ingest.formats import html

        return html.load
    if doc_type == "docx":
        from ingest.formats import docx

        return docx.load
    if doc_type == "pptx":
        from ingest.formats import pptx

        return pptx.load
    if doc_type in ("xlsx", "csv"):
        from ingest.formats import sheets

        return sheets.load_xlsx if doc_type == "xlsx" else sheets.load_csv
    return _markdown if doc_type == "markdown" else _text


@dataclass(frozen=True)
class RawFile:
    """A file's bytes and hash, read before any parsing so unchanged files cost no parse."""

    path: Path
    data: bytes
    doc_type: str
    content_hash: str
    mtime: float


def read_file(path: Path, max_bytes: int) -> RawFile:
    doc_type = SUFFIXES.get(path.suffix.lower())
    if doc_type is None:
        raise IngestError(f"unsupported file type {path.suffix or '(none)'!r}")
    stat = path.stat()
    if stat.st_size == 0:
        raise IngestError("empty file")
    if stat.st_size > max_bytes:
        raise IngestError(f"too large ({stat.st_size / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB)")
    data = path.read_bytes()
    return RawFile(path, data, doc_type, hashlib.sha256(data).hexdigest(), stat.st_mtime)


def parse(raw: RawFile, options: ParseOptions | None = None) -> SourceDocument:
    """Parses a file read by `read_file`. A parser may raise anything on a malformed file;
    the pipeline turns that into the file's failure."""
    parsed = _loader(raw.doc_type, options or ParseOptions())(raw.data)
    if not parsed.text.strip():
        raise IngestError("no extractable text")
    title = parsed.title
    if not title:
        by_heading = raw.doc_type in _FIRST_HEADING_TITLED
        title = _markdown_title(parsed.text, raw.path) if by_heading else raw.path.stem
    return SourceDocument(
        source=str(raw.path.resolve()),
        text=parsed.text,
        title=title,
        doc_type=raw.doc_type,
        content_hash=raw.content_hash,
        mtime=raw.mtime,
        pages=parsed.pages,
        warnings=parsed.warnings,
        tables=parsed.tables,
    )


def load_document(
    path: Path, max_bytes: int, options: ParseOptions | None = None
) -> SourceDocument:
    return parse(read_file(path, max_bytes), options)


def _selected(relative: PurePosixPath, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Glob filters (fnmatch: `*` also spans folders) on the path relative to the ingested
    folder, or on the file name alone: `*.md`, `api/*`, `drafts/*`."""

    def matches(pattern: str) -> bool:
        return fnmatch(relative.as_posix(), pattern) or fnmatch(relative.name, pattern)

    return (not include or any(map(matches, include))) and not any(map(matches, exclude))


def discover(
    paths: list[Path], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[tuple[Path, Path | None]]:
    """Files to ingest, each with the folder it was found under (None for a named file).

    Folders are walked recursively for supported types, skipping hidden entries; `include` and
    `exclude` globs filter what a folder yields. A file named directly is always taken.
    """
    found: dict[Path, Path | None] = {}
    for given in paths:
        if given.is_dir():
            root = given.resolve()
            for path in sorted(root.rglob("*")):
                relative = PurePosixPath(path.relative_to(root).as_posix())
                if (
                    path.is_file()
                    and path.suffix.lower() in SUFFIXES
                    and not _hidden(path, root)
                    and _selected(relative, include, exclude)
                ):
                    found.setdefault(path.resolve(), root)
        elif given.is_file():
            found.setdefault(given.resolve(), None)
        else:
            raise FileNotFoundError(f"no such file or folder: {given}")
    return list(found.items())


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)
