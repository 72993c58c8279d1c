"""`rag eval health`: is the embedding space itself healthy for retrieval?

- anisotropy: mean pairwise cosine; when every chunk looks alike to the model, similarity
  scores bunch together and thresholds on them mean little;
- hubness: skew of the k-occurrence distribution (how often each chunk is among the other
  chunks' k nearest); hub chunks (boilerplate, navigation, licence text) turn up in answers to
  unrelated questions, so they are listed by name;
- near-duplicates: share of chunks whose nearest other chunk is nearly the same vector, beside
  the duplicates ingest already folded;
- a 2-D map (PCA) coloured by document, hubs marked;
- Matryoshka-style truncation: the vectors cut to fewer dimensions and re-normalised, scored on
  a BEIR folder's qrels (nDCG@10) and against the full vectors' own top-10, with the memory
  each size takes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from eval.diagnostics import (
    CollectionVectors,
    encode_queries,
    finish_report,
    load_vectors,
    write_report,
)
from eval.report import markdown_table
from eval.vector_stats import (
    exact_top_k,
    k_occurrence,
    mean_pairwise_cosine,
    pca_2d,
    recall_against_exact,
    share_at_least,
    skewness,
    truncate,
)
from rag_app.config import Settings
from rag_app.retrieval.metrics import evaluate
from rag_app.store import CollectionStore

NEAR_DUPLICATE_LEVELS = (0.9, 0.95)


def embedding_health(
    vectors: CollectionVectors, k: int, hubs: int, near_duplicate: float
) -> tuple[dict[str, Any], np.ndarray]:
    """The health numbers, and each chunk's k-occurrence (for the map)."""
    neighbours, sims = exact_top_k(vectors.matrix, vectors.matrix, k, exclude_self=True)
    occurrence = k_occurrence(neighbours, len(vectors))
    nearest = sims[:, 0]
    top = np.argsort(-occurrence, kind="stable")[:hubs]
    return {
        "anisotropy": mean_pairwise_cosine(vectors.matrix),
        "hubness_skew": skewness(occurrence),
        "k": k,
        "k_occurrence_max": int(occurrence.max()),
        "antihubs": float((occurrence == 0).mean()),
        "near_duplicates": {
            str(t): share_at_least(nearest, t) for t in (*NEAR_DUPLICATE_LEVELS, near_duplicate)
        },
        "nearest_similarity_median": float(np.median(nearest)),
        "nearest_in_same_document": float(
            np.mean(
                [vectors.sources[i] == vectors.sources[j] for i, j in enumerate(neighbours[:, 0])]
            )
        ),
        "hubs": [
            {
                "id": vectors.ids[i],
                "k_occurrence": int(occurrence[i]),
                "source": vectors.sources[i],
                "text": " ".join(vectors.texts[i].split())[:200],
            }
            for i in top
        ],
    }, occurrence


def truncation(
    vectors: CollectionVectors,
    queries: np.ndarray,
    dims: tuple[int, ...],
    depth: int,
    to_documents: Any | None = None,
    query_ids: list[str] | None = None,
    qrels: dict[str, dict[str, int]] | None = None,
) -> dict[str, dict[str, float]]:
    """Per dimension count: memory, recall@10 against the full vectors' top-10, and (with
    qrels) nDCG@10 / recall@100 of the documents ranked by their best chunk."""
    full = vectors.matrix.shape[1]
    reference, _ = exact_top_k(vectors.matrix, queries, 10)
    reference_ids = [[str(i) for i in row] for row in reference]
    results: dict[str, dict[str, float]] = {}
    for d in sorted({full, *dims}, reverse=True):
        found, _ = exact_top_k(truncate(vectors.matrix, d), truncate(queries, d), depth)
        row = {
            "dimensions": float(d),
            "memory_mb": len(vectors) * d * 4 / 1e6,
            "top10_overlap": recall_against_exact(
                [[str(i) for i in r] for r in found], reference_ids, 10
            ),
        }
        if to_documents is not None and qrels is not None and query_ids is not None:
            ranked = {
                q: to_documents([vectors.ids[i] for i in r])
                for q, r in zip(query_ids, found, strict=True)
            }
            row.update(evaluate(ranked, qrels, ["ndcg@10", "recall@100"]))
        results[str(d)] = row
    return results


def evaluate_health(
    settings: Settings,
    out: Path | None = None,
    dataset: Path | None = None,
    split: str = "test",
    k: int = 10,
    hubs: int = 20,
    dims: tuple[int, ...] = (256, 128),
    sample: int = 500,
    seed: int = 0,
    progress: bool = False,
) -> dict[str, Any]:
    """Embedding health of a collection (or of a BEIR folder's own collection, ingested first
    if needed, which adds the truncation check against its qrels)."""
    from eval.retrieval import BeirCollection
    from rag_app.beir import load_beir

    started = time.perf_counter()
    beir = BeirCollection(load_beir(dataset, split), settings) if dataset else None
    store = beir.store if beir else CollectionStore(settings)
    collection = store.settings.collection
    try:
        ingest = beir.prepare(progress) if beir else None
        vectors = load_vectors(store)
        model = store.embedding_model  # a tuned collection's own model
        health, occurrence = embedding_health(vectors, k, hubs, settings.near_duplicate_similarity)
        stats = store.state.stats()
        health["folded_at_ingest"] = stats.duplicates / max(1, stats.chunks + stats.duplicates)
        if beir is not None:
            data = beir.dataset
            query_ids = list(data.queries)
            queries = encode_queries(store, [data.queries[q] for q in query_ids], progress)
            cut = truncation(
                vectors,
                queries,
                dims,
                beir.chunks_for(100),
                beir.rank_documents,
                query_ids,
                data.qrels,
            )
            truncation_queries = f"{len(query_ids)} {split} queries of {data.name}"
        else:
            picked = np.sort(np.random.default_rng(seed).permutation(len(vectors))[:sample])
            cut = truncation(vectors, vectors.matrix[picked], dims, 10)
            truncation_queries = f"{len(picked)} of the collection's own chunk vectors"
    finally:
        store.close()
    report = finish_report(
        {
            "collection": collection,
            "chunks": len(vectors),
            "documents": len(set(vectors.sources)),
            "dimensions": int(vectors.matrix.shape[1]),
            "embedding_model": model,
            "ingest": ingest,
            "health": health,
            "truncation": cut,
            "truncation_queries": truncation_queries,
        },
        started,
    )
    if out is not None:
        write_health_report(report, out)
        collection_map(vectors, occurrence, hubs, out / "map.png", f"{collection}: PCA map")
    return report


def write_health_report(report: dict[str, Any], out: Path) -> None:
    h = report["health"]
    dups = ", ".join(f">= {t}: {share:.2%}" for t, share in h["near_duplicates"].items())
    lines = [
        f"# Embedding health: `{report['collection']}`",
        "",
        f"{report['chunks']} chunks from {report['documents']} documents, "
        f"{report['dimensions']}-d `{report['embedding_model']}` vectors.",
        "",
        "| measure | value | reading |",
        "|---|---:|---|",
        f"| anisotropy (mean pairwise cosine) | {h['anisotropy']:.4f} | 0 = directions spread "
        "evenly; high values squeeze every similarity score into a narrow band |",
        f"| hubness (skew of {h['k']}-occurrence) | {h['hubness_skew']:.2f} | near 0 is healthy; "
        "above ~1 a few chunks crowd many result lists |",
        f"| largest {h['k']}-occurrence | {h['k_occurrence_max']} | times the top hub is among "
        f"other chunks' {h['k']} nearest |",
        f"| anti-hubs (never a neighbour) | {h['antihubs']:.2%} | chunks dense search can hardly "
        "reach from a similar chunk |",
        f"| nearest-neighbour cosine, median | {h['nearest_similarity_median']:.4f} | |",
        f"| nearest neighbour in the same document | {h['nearest_in_same_document']:.2%} | "
        "sibling chunks share the title header and overlap: high values are expected |",
        f"| near-duplicate chunks (nearest other chunk) | {dups} | |",
        f"| folded as duplicates at ingest | {h['folded_at_ingest']:.2%} | stored once, "
        "searched as one |",
        "",
        "## Hub chunks",
        "",
        "The chunks that are most often among other chunks' nearest neighbours: if they are "
        "boilerplate, exclude them (`exclude` globs) or clean the source.",
        "",
        "| k-occ. | source | text |",
        "|---:|---|---|",
        *(
            f"| {hub['k_occurrence']} | {Path(hub['source']).name} | "
            f"{hub['text'][:140].replace('|', '/')} |"
            for hub in h["hubs"]
        ),
        "",
        "## Truncated vectors (Matryoshka check)",
        "",
        f"Exact search over the first d dimensions, re-normalised; queries: "
        f"{report['truncation_queries']}. `top10_overlap` is recall@10 against the full "
        "vectors' own top-10.",
        "",
        markdown_table(
            report["truncation"],
            [
                c
                for c in ("memory_mb", "top10_overlap", "ndcg@10", "recall@100")
                if c in next(iter(report["truncation"].values()))
            ],
            "dimensions",
        ),
        "",
        "![map of the collection](map.png)",
    ]
    write_report(out, report, lines)


def collection_map(
    vectors: CollectionVectors, occurrence: np.ndarray, hubs: int, path: Path, title: str
) -> None:
    """The chunks on their two leading principal components, coloured by document (a cyclic
    palette: neighbouring colours are not neighbouring documents), the top hubs marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xy = pca_2d(vectors.matrix)
    documents = {s: i for i, s in enumerate(dict.fromkeys(vectors.sources))}
    colours = [documents[s] % 20 for s in vectors.sources]
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    ax.scatter(xy[:, 0], xy[:, 1], c=colours, cmap="tab20", s=4, alpha=0.6, linewidths=0)
    top = np.argsort(-occurrence, kind="stable")[:hubs]
    ax.scatter(xy[top, 0], xy[top, 1], marker="x", c="black", s=30, label=f"top {hubs} hubs")
    ax.set_title(f"{title} ({len(documents)} documents, colour = document)")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
