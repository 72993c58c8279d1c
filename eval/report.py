"""What every evaluation report shares: provenance, percentiles, Markdown tables, plots."""

from __future__ import annotations

import json
import math
import platform
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np


def git_commit() -> str | None:
    """The commit the numbers came from (with "+dirty" when the tree had changes)."""
    repo = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def cpu_model() -> str:
    """The CPU's name (timings differ between the machines' CPUs, so every result names it)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or "unknown"
    return next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "")


def provenance() -> dict[str, Any]:
    import os

    return {
        "git_commit": git_commit(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "cpu": cpu_model(),
        "python": platform.python_version(),
    }


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(seconds) * 1000.0, q)) if seconds else math.nan


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.4f}" if abs(value) < 10 else f"{value:.0f}"
    return str(value)


def markdown_table(
    rows: Mapping[str, Mapping[str, Any]], columns: Sequence[str], first: str
) -> str:
    """One row per key of `rows`; a missing or NaN cell shows as "–", never as a number."""
    lines = [
        "| " + " | ".join([first, *columns]) + " |",
        "|" + "|".join(["---", *("---:" for _ in columns)]) + "|",
    ]
    for name, values in rows.items():
        cells = [_cell(values.get(c, math.nan)) for c in columns]
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return "\n".join(lines)


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Written under a temporary name and renamed: a killed run never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=True) + "\n")
    tmp.replace(path)


def quality_vs_latency_plot(
    configs: Mapping[str, Mapping[str, float]], metrics: Sequence[str], path: Path, title: str
) -> None:
    """One panel per metric: quality against median latency (log scale), one point per
    config, so the cost of each gain is visible at a glance. Names of the form
    "config [collection]" share a colour per config and a marker per collection; a legend
    beside the panels names them, because labels on the points overlap where configs tie."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    def parts(name: str) -> tuple[str, str]:
        config, _, collection = name.partition(" [")
        return config, collection

    bases = list(dict.fromkeys(parts(name)[0] for name in configs))
    collections = list(dict.fromkeys(parts(name)[1] for name in configs))
    colours = [f"C{i}" for i in range(10)]  # matplotlib's default cycle
    markers = "os^Dvx*P"
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics) + 3, 4.4), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for name, values in configs.items():
            x, y = values.get("latency_p50_ms", math.nan), values.get(metric, math.nan)
            if math.isnan(x) or math.isnan(y):
                continue
            base, collection = parts(name)
            ax.scatter(
                [x],
                [y],
                s=45,
                color=colours[bases.index(base) % len(colours)],
                marker=markers[collections.index(collection) % len(markers)],
                label=name,
            )
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xlabel("median latency per query (ms, log scale)")
        ax.set_ylabel(metric)
        ax.grid(True, alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def bar_chart(values: Mapping[str, float], path: Path, title: str) -> None:
    """Metric means in [0, 1] as bars; NaN (not measured) is left out rather than drawn as 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = {k: v for k, v in values.items() if not math.isnan(v)}
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(shown) + 2), 4.2))
    bars = ax.bar(list(shown), list(shown.values()), color="#4C72B0")
    ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
