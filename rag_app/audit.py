"""The library's audit log: who changed a collection from the chat page, when, and how.

One JSON object per line, only ever appended (`append_line`), so entries from concurrent
requests do not interleave and nothing earlier is rewritten. `rag users audit` prints it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from rag_app.errors import InvalidInput
from rag_app.files import append_line, iter_models

Action = Literal["upload", "delete", "tune"]


class AuditEntry(BaseModel):
    """`user` is None when the page was served without sign-in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time: str
    user: str | None
    action: Action
    collection: str
    what: list[str]

    def describe(self) -> str:
        return (
            f"{self.time}  {self.user or '(no sign-in)'}  {self.action}  {self.collection}: "
            + "; ".join(self.what)
        )


def record(path: Path, user: str | None, action: Action, collection: str, what: list[str]) -> None:
    entry = AuditEntry(
        time=datetime.now(UTC).isoformat(timespec="seconds"),
        user=user,
        action=action,
        collection=collection,
        what=what,
    )
    append_line(path, entry)


def entries(path: Path) -> Iterator[AuditEntry]:
    """The log's entries, oldest first; none before the first change."""
    if not path.exists():
        return
    for _, entry in iter_models(path, AuditEntry, InvalidInput):
        yield entry
