"""Ingest a folder of real-world files as a user would, into a fresh home, and report per file.

    python -m eval.ingest_report --folder DIR [--folder DIR ...] --out FILE.json [--label NAME]
    python -m eval.ingest_report --compare BEFORE.json AFTER.json --out FILE.md

One `Ingestor.run` over the folders, timed (the embedding model is loaded before the clock
starts). If the run dies, the exception is recorded as a crash and every file is then tried
on its own, so the report still says what happened to each. Written for the corpus of
`eval/realworld` (see its README); it also runs against older checkouts of `ingest`, so it
reads the report's newer fields (warnings, tables) only where they exist.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

_PAGES = re.compile(r"pages? ([\d, -]+):")


def pages_named(warning: str) -> int:
    """How many pages a "no text layer on pages 2-3, 5: ..." warning names."""
    match = _PAGES.search(warning)
    if not match:
        return 0
    count = 0
    for span in match.group(1).split(","):
        first, _, last = span.strip().partition("-")
        count += int(last or first) - int(first) + 1
    return count


def _relative(source: str, folders: list[Path]) -> str:
    path = Path(source)
    for folder in folders:
        if path.is_relative_to(folder.resolve()):
            return f"{folder.name}/{path.relative_to(folder.resolve())}"
    return source


def file_rows(report: Any, folders: list[Path]) -> list[dict[str, Any]]:
    rows = []
    for result in report.files:
        warnings = list(getattr(result, "warnings", ()))
        rows.append(
            {
                "file": _relative(result.source, folders),
                "outcome": result.outcome,
                "reason": result.reason,
                "chunks": result.chunks,
                "tables": getattr(result, "tables", 0),
                "warnings": warnings,
                "pages_without_text": sum(pages_named(w) for w in warnings if "text layer" in w),
            }
        )
    return rows


def run(folders: list[Path], label: str) -> dict[str, Any]:
    from ingest.pipeline import Ingestor
    from rag_app.config import Settings

    with tempfile.TemporaryDirectory(prefix="ingest-report-") as home:
        settings = Settings(home=Path(home), collection="realworld")
        ingestor = Ingestor(settings)
        ingestor.store.embedder.warm_up()
        started = time.perf_counter()
        crash = None
        try:
            report = ingestor.run(folders)
        except Exception as err:  # a crashed run is the finding, not the end of the report
            crash = traceback.format_exception_only(type(err), err)[-1].strip()
        seconds = time.perf_counter() - started
        if crash is not None:
            from ingest.pipeline import IngestReport

            report = IngestReport()
            files = sorted(p for folder in folders for p in folder.rglob("*") if p.is_file())
            for path in files:
                try:
                    report.files += ingestor.run([path], prune=False).files
                except Exception as err:  # this file alone crashes the run
                    from ingest.pipeline import FileResult

                    reason = f"crashed the run: {type(err).__name__}: {err}"
                    report.files.append(FileResult(str(path.resolve()), "failed", reason))
        stats = ingestor.store.state.stats()
        ingestor.store.close()
    rows = file_rows(report, folders)
    outcomes = Counter(r["outcome"] for r in rows)
    return {
        "label": label,
        "folders": [str(folder) for folder in folders],
        "crashed": crash,
        "seconds": round(seconds, 1),
        "files": len(rows),
        "outcomes": dict(outcomes),
        "chunks": stats.chunks,
        "chunks_per_s": round(stats.chunks / seconds, 2) if seconds and crash is None else None,
        "tables": sum(r["tables"] for r in rows),
        "pages_without_text": sum(r["pages_without_text"] for r in rows),
        "failures": {r["file"]: r["reason"] for r in rows if r["outcome"] == "failed"},
        "by_file": rows,
    }


def _by_kind(run: dict[str, Any]) -> dict[str, Counter[str]]:
    """Outcomes per file type; a file "skipped" as unchanged was stored by this run before it
    crashed (the per-file retry found it there), so it counts as ingested."""
    kinds: dict[str, Counter[str]] = {}
    for row in run["by_file"]:
        kind = Path(row["file"]).suffix.lower().lstrip(".") or "?"
        outcome = "ingested" if row["outcome"] == "skipped" else row["outcome"]
        kinds.setdefault(kind, Counter())[outcome] += 1
    return kinds


def _said(row: dict[str, Any]) -> str:
    details = [row.get("reason") or "", *row.get("warnings", [])]
    detail = "; ".join(d for d in details if d)
    return f"{row['outcome']}: {detail}" if detail else row["outcome"]


def comparison_markdown(before: dict[str, Any], after: dict[str, Any]) -> str:
    """Both runs side by side: totals, outcomes per file type, and every file whose outcome
    changed or that failed in either run, with the reasons."""

    def total(run: dict[str, Any], key: str) -> str:
        value = run.get(key)
        return "–" if value is None else str(value)

    lines = [
        f"| | {before['label']} | {after['label']} |",
        "|---|---:|---:|",
        f"| commit | `{before.get('git_commit')}` | `{after.get('git_commit')}` |",
        f"| run crashed | {before['crashed'] or 'no'} | {after['crashed'] or 'no'} |",
    ]
    for key in ("files", "seconds", "chunks", "chunks_per_s", "tables", "pages_without_text"):
        lines.append(f"| {key.replace('_', ' ')} | {total(before, key)} | {total(after, key)} |")
    for outcome in ("ingested", "skipped", "failed"):
        lines.append(
            f"| {outcome} | {before['outcomes'].get(outcome, 0)} | "
            f"{after['outcomes'].get(outcome, 0)} |"
        )
    kinds_before, kinds_after = _by_kind(before), _by_kind(after)
    lines += ["", "| type | files | ingested before | ingested after |", "|---|---:|---:|---:|"]
    for kind in sorted(set(kinds_before) | set(kinds_after)):
        b, a = kinds_before.get(kind, Counter()), kinds_after.get(kind, Counter())
        lines.append(f"| {kind} | {sum(a.values())} | {b['ingested']} | {a['ingested']} |")
    rows_before = {r["file"]: r for r in before["by_file"]}
    lines += ["", "| file | before | after |", "|---|---|---|"]
    for row in after["by_file"]:
        old = rows_before.get(row["file"], {"outcome": "absent", "reason": None})
        if "failed" in (row["outcome"], old["outcome"]) or row["warnings"]:
            lines.append(f"| {row['file']} | {_said(old)} | {_said(row)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", type=Path, action="append")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("BEFORE", "AFTER"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--label", default="run")
    args = parser.parse_args(argv)
    if args.compare:
        before, after = (json.loads(path.read_text()) for path in args.compare)
        args.out.write_text(comparison_markdown(before, after))
        return 0
    if not args.folder:
        parser.error("--folder is needed (or --compare)")
    from eval.report import provenance, write_json

    result = {**provenance(), **run(args.folder, args.label)}
    write_json(args.out, result)
    summary = {k: result[k] for k in ("crashed", "seconds", "files", "outcomes", "chunks")}
    print(json.dumps(summary | {"tables": result["tables"]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
