"""Cold start: `rag --help` (import time of the CLI) and `rag ask` from invocation to answer.

    python -m bench.startup_bench [--runs 5] [--asks 2]

Both run as fresh processes, the way a user meets them. "Warm caches" means the OS page cache:
the first `rag ask` is run once untimed, so model files are read from memory afterwards. The
answer's own stage timings are subtracted from the wall time of `rag ask` to give what
starting costs: imports, opening the store, loading the embedder, reranker and LLM.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import part_main
from bench.ingest_bench import corpus_home, corpus_settings
from bench.query_bench import ensure_collection, test_queries

RAG = str(Path(sys.executable).with_name("rag"))


def wall(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return time.perf_counter() - started, done.stdout


def help_seconds(runs: int) -> dict[str, Any]:
    env = dict(os.environ)
    seconds = [wall([RAG, "--help"], env)[0] for _ in range(runs + 1)][1:]
    check = (
        "import sys, rag_app.cli; print(sorted({'torch','chromadb','gradio'} & set(sys.modules)))"
    )
    heavy = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True
    ).stdout.strip()
    return {
        "runs": runs,
        "median_s": round(statistics.median(seconds), 3),
        "max_s": round(max(seconds), 3),
        "heavy_modules_imported_by_cli": heavy,
    }


def ask_seconds(asks: int, quick: bool) -> dict[str, Any]:
    settings = corpus_settings("scifact")
    ensure_collection(settings, quick)
    env = {**os.environ, "RAG_HOME": str(corpus_home("scifact")), "RAG_COLLECTION": "scifact"}
    questions = test_queries(asks + 1)
    wall([RAG, "ask", "--json", questions[0]], env)  # fills the page cache
    rows = []
    for question in questions[1:]:
        seconds, out = wall([RAG, "ask", "--json", question], env)
        timings = json.loads(out).get("timings", {})
        work = sum(v for k, v in timings.items() if k != "first_token")
        rows.append(
            {
                "wall_s": round(seconds, 2),
                "answer_stages_s": round(work, 2),
                "startup_s": round(seconds - work, 2),
                "abstained": json.loads(out).get("abstained"),
            }
        )
    return {
        "asks": rows,
        "median_wall_s": round(statistics.median(r["wall_s"] for r in rows), 2),
        "median_startup_s": round(statistics.median(r["startup_s"] for r in rows), 2),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"help": help_seconds(2 if args.quick else args.runs)}
    if args.asks:
        result["ask"] = ask_seconds(1 if args.quick else args.asks, args.quick)
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=5, help="timed `rag --help` runs")
    parser.add_argument("--asks", type=int, default=2, help="timed `rag ask` runs (0: none)")


if __name__ == "__main__":
    part_main(run, __doc__, add_arguments)
