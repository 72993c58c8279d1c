"""File helpers shared by the stores, tuning and evaluation: line-numbered JSONL reading and
swapping a finished folder into place."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def iter_jsonl(path: Path, error: type[ValueError]) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) per non-blank line; a bad line raises `error` naming
    `path:line`, so the user can fix it."""
    if not path.is_file():
        raise error(f"{path} is missing")
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as err:
                raise error(f"{path}:{number}: not JSON ({err.msg})") from None


def replace_dir(staging: Path, target: Path) -> None:
    """Move a complete `staging` folder to `target`: the old one is renamed aside first and
    deleted last, so readers find either the old or the new version, never half of one."""
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
