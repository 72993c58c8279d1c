"""`make bench`: every benchmark part in one run on this machine, each in a process of its own,
written to `bench/results/<date>-<commit>.json` and a Markdown summary beside it.

    python -m bench [--parts ingest-fastapi,ingest-scifact,query,profile,...] [--quick]

The numbers are ratios against baselines measured in the same run wherever the issue asks for
one (ingest against the raw encoder, retrieval + rerank against the cross-encoder alone), so
they mean something on a machine shared with other work; absolute latencies do not.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.common import RESULTS
from bench.summary import markdown_summary
from eval.report import git_commit, provenance, write_json

PARTS: dict[str, list[str]] = {
    "ingest-fastapi": ["bench.ingest_bench", "--corpus", "fastapi"],
    "ingest-scifact": ["bench.ingest_bench", "--corpus", "scifact"],
    "query": ["bench.query_bench"],
    "profile": ["bench.profile_bench", "--target", "query"],
    "profile-ingest": ["bench.profile_bench", "--target", "ingest"],
    "scale": ["bench.scale_bench"],
    "startup": ["bench.startup_bench"],
    "pdf": ["bench.pdf_bench"],
    "llm": ["bench.llm_bench"],
    "embed": ["bench.embed_bench"],
    "stream": ["bench.stream_bench"],
    "ui-load": ["bench.ui_load_bench"],
}


def run_part(name: str, quick: bool, stem: Path, work: Path) -> dict[str, Any]:
    out = work / f"{name}.json"
    command = [sys.executable, "-m", *PARTS[name], "--out", str(out)]
    command += ["--quick"] if quick else []
    if name.startswith("profile"):
        command += ["--stacks", f"{stem}-{name}-stacks.txt"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=Path(__file__).parents[1], capture_output=True, text=True)
    seconds = round(time.perf_counter() - started, 1)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-15:]
        print(f"[bench] {name} failed after {seconds} s:\n" + "\n".join(tail), file=sys.stderr)
        return {"error": "\n".join(tail), "wall_s": seconds}
    print(f"[bench] {name} done in {seconds} s", file=sys.stderr)
    return {**json.loads(out.read_text()), "wall_s": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated, in order")
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the harness")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    chosen = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {unknown}; choose from {list(PARTS)}")
    commit = git_commit() or "unknown"
    short = commit.split("+")[0][:7] + ("-dirty" if commit.endswith("+dirty") else "")
    stem = f"{date.today().isoformat()}-{short}{'-quick' if args.quick else ''}"
    result: dict[str, Any] = {**provenance(), "quick": args.quick, "parts": {}}
    with tempfile.TemporaryDirectory(prefix="bench-") as work:
        for name in chosen:
            result["parts"][name] = run_part(name, args.quick, args.out / stem, Path(work))
            write_json(args.out / f"{stem}.json", result)  # a killed run keeps finished parts
    (args.out / f"{stem}.md").write_text(markdown_summary(result))
    print(f"[bench] wrote {args.out / stem}.json and .md", file=sys.stderr)
    return 1 if any("error" in part for part in result["parts"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
