"""Where the time goes: py-spy samples a run of the query part (retrieval and rerank, no LLM)
or of the ingest part, and the samples inside the measured loop are summed per stage and per
function.

    python -m bench.profile_bench [--target query|ingest] [--queries 30] [--rate 100]

py-spy samples from outside the process (no instrumentation in our code), so the profile costs
the measured code nothing. Model loading and imports are left out by keeping only the stacks
under the loop (`time_stages` of the query part; `Ingestor.run`, on the FastAPI docs). The raw
collapsed stacks are kept beside the results for flame graphs (speedscope, flamegraph.pl).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.common import RESULTS, part_main

LOOPS = {"query": "time_stages (bench/query_bench.py", "ingest": "Ingestor.run (ingest/pipeline.py"}
# Calls under `Ingestor.run` that are themselves several stages: named with their callee.
COMPOUND = {"Ingestor._store"}
# The call under the query loop that names the stage (py-spy writes methods as Class.method),
# in the order `time_stages` makes them; anything else keeps its own name.
STAGES = {
    "encode_query": "embed query",
    "search": "dense search",
    "sparse": "bm25",
    "reciprocal_rank_fusion": "fusion",
    "run": "retrieval pipeline (search, fusion, hydrate, rerank, parent expansion)",
    "retrieve": "candidates for the cross-encoder alone",
    "logits": "cross-encoder alone",
}
OURS = ("rag_app/", "ingest/", "bench/", "eval/")
FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>.+?):(?P<line>\d+)\)$")


def parse_collapsed(lines: Iterable[str]) -> list[tuple[list[str], int]]:
    """py-spy's raw format: `frame;frame;...;leaf COUNT` per line, root first."""
    stacks = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        frames, _, count = line.rpartition(" ")
        stacks.append((frames.split(";"), int(count)))
    return stacks


def function_of(frame: str) -> tuple[str, str]:
    match = FRAME.match(frame)
    return (match["function"], match["file"]) if match else (frame, "")


def _stage(below: list[str]) -> str:
    called, _ = function_of(below[0])
    if called in COMPOUND and len(below) > 1:
        return f"{called} > {function_of(below[1])[0]}"
    return STAGES.get(called.rsplit(".", 1)[-1], called)


def summarise(
    stacks: list[tuple[list[str], int]], loop: str = LOOPS["query"], top: int = 15
) -> dict[str, Any]:
    """Samples under the measured loop: share per stage (the first call below the loop), the
    functions with the most self time (the leaf frame), and how much of it is in our code."""
    by_stage: Counter[str] = Counter()
    by_leaf: Counter[str] = Counter()
    ours = 0
    total = 0
    for frames, count in stacks:
        below = next((i for i, f in enumerate(frames) if f.startswith(loop)), None)
        if below is None or below + 1 >= len(frames):
            continue
        total += count
        by_stage[_stage(frames[below + 1 :])] += count
        function, file = function_of(frames[-1])
        by_leaf[f"{function} ({file})"] += count
        if any(part in file for part in OURS):
            ours += count
    share = {name: round(n / total, 4) for name, n in by_stage.most_common()} if total else {}
    return {
        "samples": total,
        "stage_share": share,
        "top_self": [
            {"function": name, "share": round(n / total, 4)} for name, n in by_leaf.most_common(top)
        ]
        if total
        else [],
        "self_share_in_our_code": round(ours / total, 4) if total else None,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as work:
        raw = Path(work) / "stacks.txt"
        if args.target == "query":
            target = [sys.executable, "-m", "bench.query_bench", "--queries", str(args.queries)]
            target += ["--llm-queries", "0"]
        else:
            target = [sys.executable, "-m", "bench.ingest_bench", "--corpus", "fastapi"]
            target += ["--encode-sample", "1"]
        target += ["--out", str(Path(work) / "part.json")] + (["--quick"] if args.quick else [])
        py_spy = str(Path(sys.executable).with_name("py-spy"))
        options = ["--format", "raw", "--rate", str(args.rate), "--output", str(raw)]
        subprocess.run(
            [py_spy, "record", *options, "--", *target],
            check=True,
            capture_output=True,
            cwd=Path(__file__).parents[1],
        )
        stacks_text = raw.read_text()
    kept: Path = args.stacks
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(stacks_text)
    return {
        "target": args.target,
        "queries": args.queries if args.target == "query" else None,
        "rate_hz": args.rate,
        "stacks_file": str(kept),
        **summarise(parse_collapsed(stacks_text.splitlines()), LOOPS[args.target]),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", choices=sorted(LOOPS), default="query")
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--rate", type=int, default=100, help="samples per second")
    parser.add_argument(
        "--stacks",
        type=Path,
        default=RESULTS / "profile-query-stacks.txt",
        help="where the raw collapsed stacks are kept",
    )


if __name__ == "__main__":
    part_main(run, __doc__, add_arguments)
