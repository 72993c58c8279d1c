"""Structure-aware parent-child chunking with LlamaIndex's parsers.

Sections come from the document's own structure (Markdown headings via `MarkdownNodeParser`,
which DOCX headings and sheet names also become; PDF pages; slides with their titles); a
section becomes a parent, or several parent windows when it is too long. Each parent is split
into overlapping children (`ingest.splitting`: sentence boundaries for prose, code blocks and
tables kept whole), which are what gets embedded and searched. Sizes are counted with the
embedding model's tokenizer.

Two other splitters exist to be measured against it (`rag eval chunking`): `recursive`, plain
recursive splitting of the whole text that ignores headings and code blocks, and `semantic`,
which cuts where the embeddings of consecutive sentences stop resembling each other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from ingest.loaders import MARKDOWN_TYPES, SourceDocument
from ingest.splitting import Embed, Tokenize, split_recursive, split_semantic, split_structured
from rag_app.types import Chunk

Splitter = Literal["structured", "recursive", "semantic"]


@dataclass(frozen=True)
class Section:
    text: str
    path: str | None
    page: int | None = None


@dataclass(frozen=True)
class ChunkSizes:
    child_tokens: int
    child_overlap: int
    parent_tokens: int
    parent_child: bool = True
    splitter: Splitter = "structured"
    semantic_percentile: float = 95.0


_PATH_SEPARATOR = "\x1f"  # ASCII unit separator


def _sections(doc: SourceDocument, structured: bool) -> Iterator[Section]:
    if doc.pages:
        for page in doc.pages:
            yield Section(page.text, page.heading, page.number)
        return
    if doc.doc_type not in MARKDOWN_TYPES or not structured:
        yield Section(doc.text, None)
        return
    from llama_index.core import Document
    from llama_index.core.node_parser import MarkdownNodeParser

    # A separator no heading contains: with LlamaIndex's default "/", "Input/Output" would
    # become two levels of the heading path.
    parser = MarkdownNodeParser(header_path_separator=_PATH_SEPARATOR)
    nodes = parser.get_nodes_from_documents([Document(text=doc.text)])
    for node in nodes:
        text = node.get_content()
        header_path = str(node.metadata.get("header_path", ""))
        ancestors = [p for p in header_path.split(_PATH_SEPARATOR) if p]
        first_line, _, body = text.partition("\n")
        if first_line.startswith("#"):
            if not body.strip():
                continue  # a heading with nothing under it: its children carry its name
            ancestors.append(first_line.lstrip("#").strip())
        yield Section(text, " > ".join(ancestors) or None)


class _Ids:
    """Content-derived ids: an unchanged chunk keeps its id across re-ingests."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.seen: dict[str, int] = {}

    def __call__(self, kind: str, text: str) -> str:
        base = hashlib.sha256(f"{self.source}\0{kind}\0{text}".encode()).hexdigest()[:24]
        count = self.seen.get(base, 0)
        self.seen[base] = count + 1
        return base if count == 0 else f"{base}-{count}"


def _splitter(
    sizes: ChunkSizes, tokenize: Tokenize, embed: Embed | None
) -> Callable[[str], list[str]]:
    size, overlap = sizes.child_tokens, sizes.child_overlap
    if sizes.splitter == "recursive":
        return lambda text: split_recursive(text, size, overlap, tokenize)
    if sizes.splitter == "semantic":
        if embed is None:
            raise ValueError("semantic chunking needs the embedding model")
        percentile = sizes.semantic_percentile
        return lambda text: split_semantic(text, size, overlap, tokenize, embed, percentile)
    return lambda text: split_structured(text, size, overlap, tokenize)


def chunk_document(
    doc: SourceDocument, sizes: ChunkSizes, tokenize: Tokenize, embed: Embed | None = None
) -> tuple[list[Chunk], list[Chunk]]:
    """(parents, children); with `parent_child` off, parents is empty and children stand alone.
    `embed` (passages to unit vectors) is needed by the semantic splitter only."""
    ids = _Ids(doc.source)
    parents: list[Chunk] = []
    children: list[Chunk] = []

    def make(kind: str, text: str, section: Section, parent_id: str | None = None) -> Chunk:
        return Chunk(
            id=ids(kind, text),
            text=text,
            source=doc.source,
            title=doc.title,
            section=section.path,
            page=section.page,
            parent_id=parent_id,
            doc_type=doc.doc_type,
        )

    split_children = _splitter(sizes, tokenize, embed)
    for section in _sections(doc, structured=sizes.splitter != "recursive"):
        if not section.text.strip():
            continue
        windows = (
            [section.text]
            if len(tokenize(section.text)) <= sizes.parent_tokens
            else split_structured(section.text, sizes.parent_tokens, 0, tokenize)
        )
        for window in windows:
            parent_id = None
            if sizes.parent_child:
                parents.append(make("parent", window, section))
                parent_id = parents[-1].id
            children.extend(
                make("child", piece, section, parent_id) for piece in split_children(window)
            )
    return parents, children
