"""Read a file into a `SourceDocument`: clean text, title, hash and, for PDFs, pages.

Every refusal is an `IngestError` whose message names the reason; the pipeline adds the file.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

SUFFIXES = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".txt": "text",
    ".text": "text",
    ".rst": "text",
}


class IngestError(ValueError):
    """A file cannot be ingested; the message is the reason, for one line of the report."""


@dataclass(frozen=True)
class SourceDocument:
    source: str
    text: str
    title: str
    doc_type: str
    content_hash: str
    mtime: float
    pages: list[tuple[int, str]] = field(default_factory=list)
    """For PDFs: (1-based page number, page text); empty for other types."""


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HYPHEN_BREAK = re.compile(r"(\w)-\n(\w)")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """Normalise what extraction leaves behind without touching Markdown structure."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    text = _TRAILING_SPACE.sub("\n", text)
    return _MANY_BLANK_LINES.sub("\n\n", text).strip()


def _decode(data: bytes, path: Path) -> str:
    if b"\x00" in data[:8192]:
        raise IngestError("binary content (NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise IngestError(f"not valid UTF-8 (byte {err.start})") from None


def _markdown_title(text: str, path: Path) -> str:
    match = re.search(r"^#\s+(.+?)\s*#*\s*$", text, flags=re.MULTILINE)
    return match.group(1).strip() if match else path.stem.replace("-", " ").replace("_", " ")


def _load_pdf(data: bytes) -> tuple[list[tuple[int, str]], str | None]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise IngestError("encrypted PDF")
        pages = [(i + 1, clean_text(p.extract_text() or "")) for i, p in enumerate(reader.pages)]
        title = reader.metadata.title if reader.metadata else None
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, OSError) as err:
        raise IngestError(f"corrupt PDF ({err})") from None
    return [(n, t) for n, t in pages if t], title


def _html_to_text(html: str) -> tuple[str, str | None]:
    """HTML as Markdown-ish text: headings become `#` lines so chunking sees the structure."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else None
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            heading.replace_with(f"\n\n{'#' * level} {heading.get_text(' ', strip=True)}\n\n")
    for pre in soup.find_all("pre"):
        pre.replace_with(f"\n\n```\n{pre.get_text()}\n```\n\n")
    body = soup.body or soup
    return body.get_text("\n"), title


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


def parse(raw: RawFile) -> SourceDocument:
    path, data, doc_type = raw.path, raw.data, raw.doc_type
    pages: list[tuple[int, str]] = []
    if doc_type == "pdf":
        pages, pdf_title = _load_pdf(data)
        text = "\n\n".join(t for _, t in pages)
        title = pdf_title or path.stem
    elif doc_type == "html":
        html_text, html_title = _html_to_text(_decode(data, path))
        text = clean_text(html_text)
        title = html_title or _markdown_title(text, path)
    else:
        text = clean_text(_decode(data, path))
        title = _markdown_title(text, path) if doc_type == "markdown" else path.stem
    if not text.strip():
        raise IngestError("no extractable text")
    return SourceDocument(
        source=str(path.resolve()),
        text=text,
        title=title,
        doc_type=doc_type,
        content_hash=raw.content_hash,
        mtime=raw.mtime,
        pages=pages,
    )


def load_document(path: Path, max_bytes: int) -> SourceDocument:
    return parse(read_file(path, max_bytes))


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
