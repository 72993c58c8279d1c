import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rag_app.audit import entries, record
from rag_app.errors import InvalidInput


def test_changes_are_appended_one_json_line_each(tmp_path: Path) -> None:
    log = tmp_path / "home" / "audit.jsonl"
    assert list(entries(log)) == []
    record(log, "alice", "upload", "default", ["bees.md: ingested"])
    record(log, None, "delete", "papers", ["a.pdf: removed", "b.pdf: removed"])
    assert len(log.read_text().splitlines()) == 2
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    first, second = entries(log)
    assert (first.user, first.action, first.collection, first.what) == (
        "alice",
        "upload",
        "default",
        ["bees.md: ingested"],
    )
    when = datetime.fromisoformat(first.time)
    assert when.tzinfo == UTC and abs((datetime.now(UTC) - when).total_seconds()) < 60
    assert second.describe().endswith(
        "(no sign-in)  delete  papers: a.pdf: removed; b.pdf: removed"
    )


def test_a_damaged_line_is_named(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    record(log, "alice", "tune", "default", ["tuning started"])
    with log.open("a") as out:
        out.write(
            '{"time": "now", "user": "bob", "action": "drop", "collection": "x", "what": []}\n'
        )
    with pytest.raises(InvalidInput, match=r"audit.jsonl:2: action: Input should be"):
        list(entries(log))
