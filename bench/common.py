"""What every benchmark part shares: where data and results live, timing summaries, memory,
and the command-line shape of a part (`python -m bench.PART --out FILE`), so the runner can
start each part in a process of its own: peak memory and model loads then belong to one part.
"""

from __future__ import annotations

import argparse
import math
import resource
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eval.report import percentile_ms, provenance, write_json

HERE = Path(__file__).parent
RESULTS = HERE / "results"
# Benchmark collections live here between parts and runs (gitignored); each part that needs a
# fresh state removes its own folder first.
HOME = HERE / ".home"
DATA = HERE.parent.parent / "shared" / "data"


def timing(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95 in milliseconds over `seconds`, with the sample size beside them."""
    return {
        "p50_ms": round(percentile_ms(seconds, 50), 3),
        "p95_ms": round(percentile_ms(seconds, 95), 3),
        "n": float(len(seconds)),
    }


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 4) if denominator > 0 else math.nan


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rss_mb(pid: int | None = None) -> float:
    """Current resident memory of a process and its children (a Chroma server forks none,
    but counting them keeps the number honest if it ever does)."""
    import psutil

    process = psutil.Process(pid)
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return round(total / 2**20, 1)


def folder_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def part_main(
    run: Callable[[argparse.Namespace], dict[str, Any]],
    doc: str | None,
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    argv: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The command line of every part: its own options, `--quick` (small sizes, to check the
    harness) and `--out` (a JSON file; stdout otherwise)."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the harness")
    parser.add_argument("--out", type=Path, help="write the result JSON here")
    if add_arguments:
        add_arguments(parser)
    args = parser.parse_args(argv)
    result = {**provenance(), **run(args), "peak_rss_mb": peak_rss_mb()}
    if args.out:
        write_json(args.out, result)
    else:
        import json

        print(json.dumps(result, indent=2))
    return result
