"""Split text to a token size without cutting code blocks or tables in the middle.

Prose goes through LlamaIndex's `SentenceSplitter` (paragraphs, then sentences, with overlap).
Fenced code blocks and Markdown tables are atoms: kept whole up to twice the target size (a
code example cut in half answers nothing); a longer one is cut at line boundaries, preferring
blank lines, and each piece stays valid Markdown (fences re-opened, table header repeated). A
table keeps the short line before it (its caption) in every piece.
Small neighbouring pieces of different kinds are then merged, so a one-line "For example:" stays
with the code it introduces.

The two alternatives `rag eval chunking` measures against it: plain recursive splitting
(LangChain's `RecursiveCharacterTextSplitter` on token counts, blind to code and tables), and
semantic splitting (cut between sentences where the embedding similarity of neighbours falls
into its lowest percentiles, LlamaIndex's `SemanticSplitterNodeParser` idea; pieces still too
long are then split as above).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

Tokenize = Callable[[str], list[int]]
Embed = Callable[[list[str]], np.ndarray]
"""Texts to L2-normalised vectors, one row each."""

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_TABLE_ROW = re.compile(r"^\s*\|")


@dataclass(frozen=True)
class _Piece:
    text: str
    segment: int


def segments(text: str) -> Iterator[tuple[str, str]]:
    """("prose" | "code" | "table", text) in document order."""
    lines = text.split("\n")
    kind = "prose"
    buffer: list[str] = []
    fence: str | None = None

    def flush() -> Iterator[tuple[str, str]]:
        block = "\n".join(buffer).strip("\n")
        if block.strip():
            yield kind, block
        buffer.clear()

    for line in lines:
        if fence is not None:  # inside a code block: only its closing fence ends it
            buffer.append(line)
            if line.strip().startswith(fence):
                yield from flush()
                fence, kind = None, "prose"
            continue
        opening = _FENCE.match(line)
        if opening:
            yield from flush()
            fence, kind = opening.group(1), "code"
            buffer.append(line)
            continue
        line_kind = "table" if _TABLE_ROW.match(line) else "prose"
        if line_kind != kind:
            yield from flush()
            kind = line_kind
        buffer.append(line)
    yield from flush()


def _split_lines(block: str, kind: str, size: int, tokenize: Tokenize) -> list[str]:
    """An oversized code block or table, cut between lines into valid pieces of <= size."""
    lines = block.split("\n")
    head: list[str] = []
    tail: list[str] = []
    if kind == "code":
        head, lines = [lines[0]], lines[1:]
        if lines and _FENCE.match(lines[-1]):
            tail, lines = [lines[-1]], lines[:-1]
        tail = tail or ["```"]
    else:  # table: its caption, header and separator rows repeat in every piece
        start = next((i for i, line in enumerate(lines) if _TABLE_ROW.match(line)), 0)
        if len(lines) > start + 2:
            head, lines = lines[: start + 2], lines[start + 2 :]
    pieces: list[str] = []
    current: list[str] = []
    for line in lines:
        candidate = "\n".join([*head, *current, line, *tail])
        if current and len(tokenize(candidate)) > size:
            # Prefer to end the piece at its last blank line, if there is one worth using.
            cut = max((i for i, x in enumerate(current) if not x.strip()), default=0)
            keep, carry = (current[:cut], current[cut + 1 :]) if cut > 0 else (current, [])
            pieces.append("\n".join([*head, *keep, *tail]))
            current = carry
        current.append(line)
    if current:
        pieces.append("\n".join([*head, *current, *tail]))
    return pieces


_CAPTION_TOKENS = 40


def with_captions(blocks: list[tuple[str, str]], tokenize: Tokenize) -> list[tuple[str, str]]:
    """A table takes the line just before it (its caption or heading, "Condensed Statements
    of Income", "Table 2: ...") when that line is short, so every piece of the table says
    what it is, even when the table is cut into several."""
    out: list[tuple[str, str]] = []
    for kind, block in blocks:
        if kind == "table" and out and out[-1][0] == "prose":
            rest, _, last = out[-1][1].rstrip().rpartition("\n")
            if last.strip() and len(tokenize(last)) <= _CAPTION_TOKENS:
                out[-1] = ("prose", rest)
                block = f"{last.strip()}\n{block}"
        out.append((kind, block))
    return [(kind, block) for kind, block in out if block.strip()]


def split_structured(text: str, size: int, overlap: int, tokenize: Tokenize) -> list[str]:
    from llama_index.core.node_parser import SentenceSplitter

    prose = SentenceSplitter(chunk_size=size, chunk_overlap=overlap, tokenizer=tokenize)
    pieces: list[_Piece] = []
    for index, (kind, block) in enumerate(with_captions(list(segments(text)), tokenize)):
        if kind == "prose":
            parts = prose.split_text(block)
        elif len(tokenize(block)) <= 2 * size:
            parts = [block]
        else:
            parts = _split_lines(block, kind, size, tokenize)
        pieces.extend(_Piece(part, index) for part in parts if part.strip())
    merged: list[_Piece] = []
    for piece in pieces:
        if merged and merged[-1].segment != piece.segment:
            joined = f"{merged[-1].text}\n\n{piece.text}"
            if len(tokenize(joined)) <= size:
                merged[-1] = _Piece(joined, piece.segment)
                continue
        merged.append(piece)
    return [p.text for p in merged]


def split_recursive(text: str, size: int, overlap: int, tokenize: Tokenize) -> list[str]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=overlap, length_function=lambda t: len(tokenize(t))
    )
    return [piece for piece in splitter.split_text(text) if piece.strip()]


def semantic_breaks(similarities: Sequence[float], percentile: float) -> list[int]:
    """Indices i after which to cut: where sentences i and i + 1 are less similar than the
    (100 - percentile)th percentile of the text's neighbouring pairs (strictly, so a text
    without any drop in similarity is not cut at all)."""
    if not len(similarities):
        return []
    cut = float(np.percentile(np.asarray(similarities), 100.0 - percentile))
    return [i for i, s in enumerate(similarities) if s < cut]


def split_semantic(
    text: str, size: int, overlap: int, tokenize: Tokenize, embed: Embed, percentile: float
) -> list[str]:
    from llama_index.core.node_parser.text.utils import split_by_sentence_tokenizer

    sentences = [s for s in split_by_sentence_tokenizer()(text) if s.strip()]
    if len(sentences) < 3:
        return split_structured(text, size, overlap, tokenize)
    vectors = embed(sentences)
    similarities = (vectors[:-1] * vectors[1:]).sum(axis=1)
    groups: list[str] = []
    start = 0
    for i in [*semantic_breaks(similarities.tolist(), percentile), len(sentences) - 1]:
        groups.append("".join(sentences[start : i + 1]))
        start = i + 1
    return [piece for group in groups for piece in split_structured(group, size, overlap, tokenize)]
