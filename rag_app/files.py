"""File helpers shared by the stores, tuning and evaluation: line-numbered JSONL reading,
append-only logs, and swapping a finished folder into place."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


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


def iter_models(path: Path, model: type[M], error: type[ValueError]) -> Iterator[tuple[int, M]]:
    """(line number, record) per non-blank line; a line that is not a `model` raises `error`
    naming the file, the line and the field, so it is fixed where it is wrong."""
    for number, data in iter_jsonl(path, error):
        try:
            yield number, model.model_validate(data)
        except ValidationError as err:
            raise error(f"{path}:{number}: {first_problem(err, 'line')}") from None


def append_line(path: Path, record: BaseModel) -> None:
    """Append `record` as one JSON line, readable by its owner only. One `write` to a file
    opened with O_APPEND: lines from concurrent requests do not interleave, and nothing
    earlier is rewritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (record.model_dump_json() + "\n").encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)


def write_jsonl(out: Path, rows: Iterable[Any]) -> None:
    """Rewrite `out` whole through a temporary file, so a reader never sees half of it."""
    staging = out.with_name(out.name + ".tmp")
    staging.write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8"
    )
    staging.replace(out)


def read_models(path: Path, model: type[M], what: str, error: type[ValueError]) -> list[M]:
    """Each non-blank line of a JSONL file as `model`, whose `id`s must be unique: a bad line
    raises `error` naming the file, the line and the field, so a hand-written suite is fixed
    where it is wrong; so does an empty file."""
    records: list[M] = []
    seen: set[str] = set()
    for number, record in iter_models(path, model, error):
        key = record.model_dump(include={"id"})["id"]
        if key in seen:
            raise error(f"{path}:{number}: {what} id {key!r} is used twice")
        seen.add(key)
        records.append(record)
    if not records:
        raise error(f"{path}: no {what}s")
    return records


def first_problem(err: ValidationError, whole: str) -> str:
    """The first thing wrong, as `field: message` (`whole` when it is the value itself)."""
    problem = err.errors()[0]
    where = ".".join(str(p) for p in problem["loc"]) or whole
    return f"{where}: {problem['msg']}"


def replace_dir(staging: Path, target: Path) -> None:
    """Move a complete `staging` folder to `target`: the old one is renamed aside first and
    deleted last, so readers find either the old or the new version, never half of one."""
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
