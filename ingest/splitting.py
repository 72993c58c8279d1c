"""Split text to a token size without cutting code blocks or tables in the middle.

Prose goes through LlamaIndex's `SentenceSplitter` (paragraphs, then sentences, with overlap).
Fenced code blocks and Markdown tables are atoms: kept whole up to twice the target size (a
code example cut in half answers nothing); a longer one is cut at line boundaries, preferring
blank lines, and each piece stays valid Markdown (fences re-opened, table header repeated).
Small neighbouring pieces of different kinds are then merged, so a one-line "For example:" stays
with the code it introduces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

Tokenize = Callable[[str], list[int]]

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
    elif len(lines) > 2:  # table: header and separator rows repeat in every piece
        head, lines = lines[:2], lines[2:]
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


def split_structured(text: str, size: int, overlap: int, tokenize: Tokenize) -> list[str]:
    from llama_index.core.node_parser import SentenceSplitter

    prose = SentenceSplitter(chunk_size=size, chunk_overlap=overlap, tokenizer=tokenize)
    pieces: list[_Piece] = []
    for index, (kind, block) in enumerate(segments(text)):
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
