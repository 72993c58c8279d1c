"""`rag eval chunking`: which chunk size, overlap and splitter suit these documents?

Each config ingests the same corpus into a collection of its own (the embedding cache makes
children shared between configs free) and is scored with the retrieval metrics of
`rag eval retrieval`, dense-only and hybrid, documents ranked by their best chunk.

Corpora: a BEIR folder, optionally sampled (`corpus_sample`: every document judged relevant
to the chosen queries plus that many random others, fixed seed, because embedding the whole
corpus once per config is the cost), or a folder of Markdown files with a JSONL question set
naming each question's source file(s) (``{"question": str, "sources": [relative path, ...]}``).
"""

from __future__ import annotations

import fnmatch
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.diagnostics import finish_report, write_report
from eval.report import bar_chart, markdown_table
from eval.retrieval import BeirCollection, run_config
from rag_app.beir import BeirDataset, BeirDoc, DatasetError, load_beir
from rag_app.config import Fusion, Settings
from rag_app.errors import InvalidInput
from rag_app.files import iter_jsonl
from rag_app.retrieval.metrics import paired_bootstrap_interval, per_query

METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")


@dataclass(frozen=True)
class ChunkingConfig:
    child_tokens: int
    overlap_tokens: int
    splitter: str = "structured"
    parent_child: bool = True

    @property
    def name(self) -> str:
        flat = "" if self.parent_child else "-flat"
        return f"{self.child_tokens}-{self.overlap_tokens}-{self.splitter}{flat}"

    def settings(self, base: Settings) -> Settings:
        return base.updated(
            child_chunk_tokens=self.child_tokens,
            child_overlap_tokens=self.overlap_tokens,
            chunking=self.splitter,
            parent_child=self.parent_child,
            parent_chunk_tokens=max(base.parent_chunk_tokens, self.child_tokens),
        )


# ~100 / 150 / 200 / 400 words at ~1.3 MiniLM tokens a word, overlap 12.5 %; the default size
# (192) also flat, plain recursive and semantic.
CONFIGS = {
    c.name: c
    for c in (
        ChunkingConfig(128, 16),
        ChunkingConfig(192, 24),
        ChunkingConfig(256, 32),
        ChunkingConfig(512, 64),
        ChunkingConfig(192, 24, parent_child=False),
        ChunkingConfig(192, 24, "recursive"),
        ChunkingConfig(192, 24, "semantic"),
    )
}
BASELINE = "192-24-structured"


def sample_corpus(dataset: BeirDataset, queries: int | None, others: int, seed: int) -> BeirDataset:
    """`queries` judged queries drawn at random, every document relevant to them, and `others`
    random distractors from the rest of the corpus."""
    rng = random.Random(seed)
    chosen = sorted(dataset.queries)
    if queries is not None and queries < len(chosen):
        chosen = sorted(rng.sample(chosen, queries))
    relevant = {d for q in chosen for d, g in dataset.qrels[q].items() if g > 0}
    relevant &= set(dataset.corpus)
    rest = sorted(set(dataset.corpus) - relevant)
    picked = relevant | set(rng.sample(rest, min(others, len(rest))))
    return BeirDataset(
        name=f"{dataset.name}-q{len(chosen)}-d{others}-s{seed}",
        corpus={d: dataset.corpus[d] for d in sorted(picked)},
        queries={q: dataset.queries[q] for q in chosen},
        qrels={q: dataset.qrels[q] for q in chosen},
    )


def dataset_from_docs(folder: Path, questions: Path, exclude: Sequence[str] = ()) -> BeirDataset:
    """A Markdown folder (less files matching `exclude` globs on their relative path) and
    questions naming their source files, as a BEIR dataset whose document ids are the files'
    paths relative to the folder."""
    paths = [
        path
        for path in sorted(folder.rglob("*.md"))
        if not any(fnmatch.fnmatch(str(path.relative_to(folder)), g) for g in exclude)
    ]
    corpus = {
        str(path.relative_to(folder)): BeirDoc(
            str(path.relative_to(folder)), "", path.read_text(encoding="utf-8")
        )
        for path in paths
    }
    if not corpus:
        raise DatasetError(f"{folder}: no Markdown files")
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for number, record in iter_jsonl(questions, DatasetError):
        where = f"{questions}:{number}"
        if not isinstance(record, dict) or not isinstance(record.get("question"), str):
            raise DatasetError(f"{where}: expected an object with a 'question' string")
        sources = record.get("sources")
        if not isinstance(sources, list) or not sources:
            raise DatasetError(f"{where}: 'sources' must list the answering files")
        missing = [s for s in sources if s not in corpus]
        if missing:
            raise DatasetError(f"{where}: no such file under {folder}: {missing}")
        qid = f"q{number}"
        queries[qid] = record["question"]
        qrels[qid] = {str(s): 1 for s in sources}
    return BeirDataset(
        folder.parent.name if folder.name == "docs" else folder.name, corpus, queries, qrels
    )


def _scored(
    collection: BeirCollection,
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
    mode: Fusion,
    progress: bool,
) -> tuple[dict[str, float], dict[str, float]]:
    """Mean metrics and per-query nDCG@10 of one retrieval mode."""
    n = collection.chunks_for(100)
    pipeline = collection.pipeline(mode, n, None)
    run = run_config(collection, pipeline, queries, n, progress=progress, desc=mode)
    metrics = run.metrics(qrels)
    return {m: metrics[m] for m in METRICS}, per_query(run.ranked, qrels, "ndcg@10")


def evaluate_chunking(
    dataset: BeirDataset,
    settings: Settings,
    configs: Sequence[str] | None = None,
    out: Path | None = None,
    corpus_note: str = "",
    progress: bool = False,
) -> dict[str, Any]:
    """Every config in turn; the report in `out` is rewritten after each one, so a long sweep
    stopped part-way still leaves the configs it finished."""
    names = list(CONFIGS) if configs is None else list(configs)
    unknown = [c for c in names if c not in CONFIGS]
    if unknown:
        raise InvalidInput(f"unknown chunking config(s) {unknown}; choose from {list(CONFIGS)}")
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    query_scores: dict[str, dict[str, float]] = {}
    report: dict[str, Any] = {}
    for name in names:
        config = CONFIGS[name]
        collection = BeirCollection(
            dataset, config.settings(settings), f"beir-{dataset.name}-{config.name}"
        )
        try:
            ingest = collection.prepare(progress)
            row: dict[str, Any] = {"chunks": ingest["children"], "ingest_s": ingest["seconds"]}
            modes = ((Fusion.DENSE, "dense"), (Fusion.ALPHA, "hybrid"))
            for mode, label in modes:
                metrics, scores = _scored(
                    collection, dataset.queries, dataset.qrels, mode, progress
                )
                row.update({f"{label} {m}": v for m, v in metrics.items()})
                query_scores[f"{name} {label}"] = scores
            results[name] = row
        finally:
            collection.close()
        baseline = BASELINE if BASELINE in results else names[0]
        report = finish_report(
            {
                "dataset": {
                    "name": dataset.name,
                    "documents": len(dataset.corpus),
                    "queries": len(dataset.queries),
                    "note": corpus_note,
                },
                "embedding_model": settings.embedding_model,
                "alpha": settings.alpha,
                "baseline": baseline,
                "winner": max(results, key=lambda n: results[n]["hybrid ndcg@10"]),
                "configs": _against_baseline(results, query_scores, baseline),
                "pending": names[len(results) :],
            },
            started,
        )
        if out is not None:
            write_chunking_report(report, out)
    return report


def _against_baseline(
    results: Mapping[str, Mapping[str, Any]],
    query_scores: Mapping[str, Mapping[str, float]],
    baseline: str,
) -> dict[str, dict[str, Any]]:
    """Each row with its nDCG@10 difference from the baseline and a paired 95 % interval."""
    rows: dict[str, dict[str, Any]] = {}
    for name, row in results.items():
        rows[name] = dict(row)
        for label in ("dense", "hybrid"):
            a, b = query_scores[f"{name} {label}"], query_scores[f"{baseline} {label}"]
            low, high = paired_bootstrap_interval([a[q] for q in a], [b[q] for q in a])
            rows[name][f"{label} Δ ndcg@10"] = (
                row[f"{label} ndcg@10"] - results[baseline][f"{label} ndcg@10"]
            )
            rows[name][f"{label} Δ 95% CI"] = f"[{low:+.3f}, {high:+.3f}]"
    return rows


def write_chunking_report(report: dict[str, Any], out: Path) -> None:
    data, configs = report["dataset"], report["configs"]
    winner, baseline = report["winner"], report["baseline"]
    gain = configs[winner]["hybrid Δ ndcg@10"]
    columns = [
        "chunks",
        "ingest_s",
        *(f"dense {m}" for m in ("ndcg@10", "recall@10")),
        "dense Δ ndcg@10",
        *(f"hybrid {m}" for m in METRICS),
        "hybrid Δ ndcg@10",
        "hybrid Δ 95% CI",
    ]
    lines = [
        f"# Chunking sweep: {data['name']}",
        "",
        f"{data['documents']} documents, {data['queries']} queries. {data['note']}",
        "Config names read `child tokens - overlap tokens - splitter` (`-flat`: no parents). "
        f"Hybrid is the alpha blend at {report['alpha']}; documents rank by their best chunk. "
        f"Δ is against `{baseline}` (the default), with a paired bootstrap 95% interval over "
        f"queries. The model (`{report['embedding_model']}`) reads at most 256 tokens: a longer "
        "chunk is embedded by its first 256.",
        "",
        markdown_table(configs, columns, "config"),
        "",
        f"**Best hybrid nDCG@10**: `{winner}`, {gain:+.4f} against `{baseline}` "
        f"({configs[winner]['hybrid Δ 95% CI']}).",
        "",
        "![hybrid nDCG@10 per config](results.png)",
    ]
    if report["pending"]:
        lines.insert(
            -2, f"Not measured yet (the run stopped or is still going): {report['pending']}."
        )
    write_report(out, report, lines)
    bar_chart(
        {name: row["hybrid ndcg@10"] for name, row in configs.items()},
        out / "results.png",
        f"hybrid nDCG@10 per chunking config: {data['name']}",
    )


def load_corpus(
    dataset: Path | None,
    docs: Path | None,
    questions: Path | None,
    split: str,
    queries: int | None,
    corpus_sample: int | None,
    seed: int,
    exclude: Sequence[str] = (),
) -> tuple[BeirDataset, str]:
    """The dataset to sweep and a sentence saying what it is."""
    if docs is not None:
        if questions is None:
            raise InvalidInput("--docs needs --questions (JSONL naming each question's sources)")
        data = dataset_from_docs(docs, questions, exclude)
        left_out = f" (left out: {', '.join(exclude)})" if exclude else ""
        return data, f"Markdown files of {docs}{left_out}; questions from {questions}."
    if dataset is None:
        raise InvalidInput("give --dataset (a BEIR folder) or --docs with --questions")
    full = load_beir(dataset, split)
    if corpus_sample is None and queries is None:
        return full, f"The full corpus, {split} split."
    data = sample_corpus(full, queries, corpus_sample or len(full.corpus), seed)
    return data, (
        f"Sampled from {len(full.corpus)} documents ({split} split, seed {seed}): every "
        f"document relevant to {len(data.queries)} random queries plus {corpus_sample} random "
        "others; absolute numbers are higher than on the full corpus (fewer distractors), the "
        "comparison between configs is what counts."
    )
