"""`rag eval index`: is the HNSW index losing results?

Chroma's HNSW top-k is compared with exact brute-force kNN over the same vectors, for a grid of
graph degrees (M, `max_neighbors`) and search breadths (`ef_search`). Each setting is built in a
scratch Chroma store in a temporary folder from the collection's own vectors (read, never
changed), and again at a larger size from synthetic vectors drawn around the real ones, because
HNSW recall falls as a collection grows. The recommended setting is the fastest one whose
recall@k stays at or above the target at every size measured.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from eval.diagnostics import (
    encode_queries,
    finish_report,
    load_vectors,
    query_texts,
    write_report,
)
from eval.report import markdown_table, percentile_ms
from eval.vector_stats import (
    cheapest_passing,
    exact_top_k,
    recall_against_exact,
    synthetic_neighbours,
)
from rag_app.config import Settings
from rag_app.store import CollectionStore
from rag_app.store.vectors import Hnsw, VectorIndex

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

COLUMNS = ("recall", "latency_p50_ms", "latency_p95_ms", "build_s")


@dataclass(frozen=True)
class IndexGrid:
    max_neighbors: tuple[int, ...] = (8, 16, 32)
    ef_searches: tuple[int, ...] = (10, 20, 50, 100, 200)


@dataclass(frozen=True)
class Scale:
    name: str
    matrix: np.ndarray


def _progress(items: Any, desc: str, show: bool) -> Any:
    from tqdm import tqdm

    return tqdm(items, desc=desc, leave=False, disable=not show)


def brute_force_seconds(matrix: np.ndarray, queries: np.ndarray, k: int) -> list[float]:
    """Seconds per query of exact search with NumPy (the price of never losing a result)."""
    seconds = []
    for q in queries[:100]:
        started = time.perf_counter()
        scores = matrix @ q
        np.argpartition(-scores, k)[:k]
        seconds.append(time.perf_counter() - started)
    return seconds


def _fresh_client(path: Path) -> ClientAPI:
    """A client whose first query loads the HNSW index anew: Chroma keeps a loaded index with
    the ef_search it was loaded with, so each setting is measured from a fresh load."""
    import chromadb
    from chromadb.api.client import SharedSystemClient
    from chromadb.config import Settings as ChromaSettings

    SharedSystemClient.clear_system_cache()
    return chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )


def measure_scale(
    scale: Scale,
    queries: np.ndarray,
    k: int,
    grid: IndexGrid,
    ef_construction: int,
    workdir: Path,
    progress: bool,
) -> dict[str, dict[str, float]]:
    """One row per (M, ef_search): recall@k against exact kNN, query latency, build time."""
    exact_rows, _ = exact_top_k(scale.matrix, queries, k)
    exact = [[str(i) for i in row] for row in exact_rows]
    ids = [str(i) for i in range(len(scale.matrix))]
    folder = workdir / scale.name
    rows: dict[str, dict[str, float]] = {}
    for m in grid.max_neighbors:
        name = f"scratch-m{m}"
        hnsw = Hnsw(max_neighbors=m, ef_construction=ef_construction)
        started = time.perf_counter()
        VectorIndex(_fresh_client(folder), name, "scratch", hnsw).upsert_vectors(ids, scale.matrix)
        build = time.perf_counter() - started
        for ef in _progress(grid.ef_searches, f"{scale.name} M={m}", progress):
            index = VectorIndex(_fresh_client(folder), name, "scratch", replace(hnsw, ef_search=ef))
            index.search(queries[0], k)  # loads the index; not part of query latency
            found, seconds = [], []
            for q in queries:
                begun = time.perf_counter()
                hits = index.search(q, k)
                seconds.append(time.perf_counter() - begun)
                found.append([i for i, _ in hits])
            rows[f"{scale.name} M={m} ef={ef}"] = {
                "size": float(len(ids)),
                "max_neighbors": float(m),
                "ef_search": float(ef),
                "recall": recall_against_exact(found, exact, k),
                "latency_p50_ms": percentile_ms(seconds, 50),
                "latency_p95_ms": percentile_ms(seconds, 95),
                "build_s": build,
            }
    exact_seconds = brute_force_seconds(scale.matrix, queries, k)
    rows[f"{scale.name} exact"] = {
        "size": float(len(ids)),
        "recall": 1.0,
        "latency_p50_ms": percentile_ms(exact_seconds, 50),
        "latency_p95_ms": percentile_ms(exact_seconds, 95),
    }
    return rows


def recommend(
    rows: dict[str, dict[str, float]], scales: Sequence[str], target: float
) -> dict[str, Any]:
    """The (M, ef_search) whose recall reaches `target` at every scale with the least work per
    query, ef_search x M (distance computations grow with both; measured sub-millisecond
    latencies are too noisy to rank by), ties to the smaller M (less memory); and, per scale,
    the settings that fall below the target, worst first."""
    settings: dict[str, dict[str, dict[str, float]]] = {}
    for name, row in rows.items():
        scale, _, setting = name.partition(" ")
        if setting != "exact":
            settings.setdefault(setting, {})[scale] = row
    passing = {
        setting: {**per_scale[scales[-1]], "work": _work(per_scale[scales[-1]])}
        for setting, per_scale in settings.items()
        if len(per_scale) == len(scales) and all(r["recall"] >= target for r in per_scale.values())
    }
    best = cheapest_passing(passing, target, "recall", "work")
    below = {
        scale: sorted(
            (s for s, per in settings.items() if per[scale]["recall"] < target),
            key=lambda s: settings[s][scale]["recall"],
        )
        for scale in scales
    }
    return {
        "target": target,
        "setting": best,
        "max_neighbors": int(passing[best]["max_neighbors"]) if best else None,
        "ef_search": int(passing[best]["ef_search"]) if best else None,
        "below_target": below,
    }


def _work(row: dict[str, float]) -> float:
    return row["ef_search"] * row["max_neighbors"] + row["max_neighbors"] / 1000


def evaluate_index(
    settings: Settings,
    out: Path | None = None,
    questions: Path | None = None,
    queries: int = 200,
    synthetic: int = 50_000,
    noise: float = 0.5,
    k: int = 10,
    target: float = 0.99,
    grid: IndexGrid | None = None,
    seed: int = 0,
    progress: bool = False,
) -> dict[str, Any]:
    """Recall@k and latency of HNSW settings against exact search; writes results.* to `out`."""
    grid = grid or IndexGrid()
    started = time.perf_counter()
    with CollectionStore(settings) as store:
        vectors = load_vectors(store)
        rng = np.random.default_rng(seed)
        if questions is not None:
            texts = query_texts(questions)
            texts = [texts[i] for i in sorted(rng.permutation(len(texts))[:queries])]
            query_matrix = encode_queries(store, texts, progress)
            query_source = f"{len(texts)} questions from {questions}"
        else:
            picked = rng.permutation(len(vectors))[:queries]
            query_matrix = vectors.matrix[np.sort(picked)]
            query_source = f"{len(picked)} of the collection's own chunk vectors"
    scales = [Scale("collection", vectors.matrix)]
    if synthetic > len(vectors):
        scales.append(
            Scale(
                f"synthetic-{synthetic}",
                synthetic_neighbours(vectors.matrix, synthetic, noise, seed),
            )
        )
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="rag-eval-index-") as workdir:
        for scale in scales:
            rows.update(
                measure_scale(
                    scale,
                    query_matrix,
                    k,
                    grid,
                    settings.hnsw_ef_construction,
                    Path(workdir),
                    progress,
                )
            )
    report = finish_report(
        {
            "collection": settings.collection,
            "chunks": len(vectors),
            "dimensions": int(vectors.matrix.shape[1]),
            "queries": query_source,
            "k": k,
            "synthetic": {"size": synthetic, "noise": noise} if len(scales) > 1 else None,
            "ef_construction": settings.hnsw_ef_construction,
            "configured": {
                "max_neighbors": settings.hnsw_max_neighbors,
                "ef_search": settings.hnsw_ef_search,
            },
            "rows": rows,
            "recommendation": recommend(rows, [s.name for s in scales], target),
        },
        started,
    )
    if out is not None:
        write_index_report(report, out)
    return report


def write_index_report(report: dict[str, Any], out: Path) -> None:
    rec, k = report["recommendation"], report["k"]
    lines = [
        f"# Index recall: `{report['collection']}` ({report['chunks']} chunks, "
        f"{report['dimensions']}-d)",
        "",
        f"HNSW top-{k} against exact brute-force top-{k} over the same vectors; queries: "
        f"{report['queries']}. `recall` is recall@{k}; latency is per query through Chroma "
        "(exact: NumPy, the 100 first queries); build_s is the time to add every vector.",
    ]
    if report["synthetic"]:
        s = report["synthetic"]
        lines.append(
            f"The synthetic scale has {s['size']} vectors drawn around random real ones "
            f"(Gaussian noise of norm {s['noise']}, re-normalised): the collection's shape, "
            "at a size where HNSW has to work."
        )
    lines += ["", markdown_table(report["rows"], ["size", *COLUMNS], "setting"), ""]
    for scale, below in rec["below_target"].items():
        lines.append(f"- {scale}: below {rec['target']}: {', '.join(below) if below else 'none'}")
    if rec["setting"]:
        lines.append(
            f"\n**Recommended**: M = {rec['max_neighbors']}, ef_search = {rec['ef_search']} "
            f"(the least work per query, ef_search x M, with recall@{k} >= {rec['target']} at "
            "every size). Configured now: "
            f"M = {report['configured']['max_neighbors']}, "
            f"ef_search = {report['configured']['ef_search']}."
        )
    else:
        lines.append(f"\nNo setting measured reaches recall@{k} >= {rec['target']} everywhere.")
    lines += ["", "![recall against ef_search](results.png)"]
    write_report(out, report, lines)
    recall_plot(report["rows"], out / "results.png", f"HNSW recall@{k}: {report['collection']}")


def recall_plot(rows: dict[str, dict[str, float]], path: Path, title: str) -> None:
    """Recall against ef_search, one line per (scale, M): the knob users turn, on a
    deterministic axis (sub-millisecond latencies on a shared machine are mostly noise)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines: dict[str, list[tuple[float, float]]] = {}
    for name, row in rows.items():
        scale, _, setting = name.partition(" ")
        if setting != "exact":
            key = f"{scale} M={int(row['max_neighbors'])}"
            lines.setdefault(key, []).append((row["ef_search"], row["recall"]))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, points in lines.items():
        points.sort()
        style = "-" if label.startswith("collection") else "--"
        ax.plot([p[0] for p in points], [p[1] for p in points], style, marker="o", label=label)
    ax.axhline(0.99, color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xticks(sorted({p[0] for points in lines.values() for p in points}))
    ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.set_xlabel("ef_search")
    ax.set_ylabel("recall@k against exact kNN")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
