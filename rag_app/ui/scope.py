"""What to ask about: the documents and section the chat page's user picked, as the same
retrieval `Filters` that `rag ask --source/--section` sets, and in words for the page."""

from __future__ import annotations

from pathlib import PurePath

from rag_app.types import Filters

SHOWN_NAMES = 5
"""Documents named in "Searching in"; more are counted."""


def scope_filters(documents: list[str] | None, section: str | None) -> Filters | None:
    """The filters of the picker's documents (source paths) and section prefix; None when
    nothing is picked, so every document is searched."""
    filters = Filters(
        sources=list(documents or []) or None, section=(section or "").strip() or None
    )
    return None if filters.is_empty() else filters


def describe_scope(filters: Filters | None) -> str:
    """ "Searching in: sections starting “Tool Shed > Opening” of garden.md, tools.md"."""
    names = [PurePath(source).name for source in (filters.sources if filters else None) or []]
    if len(names) > SHOWN_NAMES:
        names = [*names[:SHOWN_NAMES], f"{len(names) - SHOWN_NAMES} more"]
    documents = ", ".join(names) or "all documents"
    if filters is not None and filters.section:
        return f"Searching in: sections starting “{filters.section}” of {documents}"
    return f"Searching in: {documents}"
