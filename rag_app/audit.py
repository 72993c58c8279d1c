"""The library's audit log: who changed a collection from the chat page, when, and how.

One JSON object per line, only ever appended: each entry is a single `write` to a file opened
with O_APPEND, so entries from concurrent requests do not interleave and nothing earlier is
rewritten. `rag users audit` prints it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from rag_app.errors import InvalidInput
from rag_app.files import first_problem, iter_jsonl

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
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (entry.model_dump_json() + "\n").encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)


def entries(path: Path) -> Iterator[AuditEntry]:
    """The log's entries, oldest first; none before the first change."""
    if not path.exists():
        return
    for number, data in iter_jsonl(path, InvalidInput):
        try:
            yield AuditEntry.model_validate(data)
        except ValidationError as err:
            raise InvalidInput(f"{path}:{number}: {first_problem(err, 'line')}") from None
