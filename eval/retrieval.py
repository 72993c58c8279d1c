"""`rag eval retrieval`: retrieval configs compared side by side on a BEIR-format dataset.

The corpus goes through the real ingestion (one Markdown file per document: `# title`, then the
text) into a collection of its own, so the numbers measure what users get, chunking included,
and a re-run skips unchanged documents by content hash. A document ranks where its best chunk
ranks. Fusion weights and rerank depth are tuned on a separate split (train), never on the one
reported, and the tuned values are what the reported configs run with.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from eval.expansions import QueryExpansion, expand_queries
from eval.report import markdown_table, percentile_ms, provenance, quality_vs_latency_plot
from eval.report import write_json as _write_json
from rag_app.beir import BeirDataset, doc_filename, doc_id_of, load_beir, load_beir_queries
from rag_app.chain.expand import Expansion
from rag_app.config import Fusion, Settings
from rag_app.errors import InvalidInput, UserError
from rag_app.protocols import Reranker
from rag_app.retrieval.fusion import Ranking, reciprocal_rank_fusion, weighted_fusion
from rag_app.retrieval.hybrid import HybridRetriever
from rag_app.retrieval.metrics import evaluate, ndcg_at_k, paired_bootstrap_interval, per_query
from rag_app.retrieval.pipeline import RetrievalPipeline
from rag_app.retrieval.rerank import rerank_depth_source
from rag_app.store import CollectionStore
from rag_app.store.bm25 import BM25Index

METRICS = ("ndcg@10", "recall@5", "recall@10", "recall@50", "recall@100", "mrr@10")


@dataclass(frozen=True)
class ConfigSpec:
    mode: Fusion
    rerank: bool = False
    expansion: Expansion | None = None
    """Queries the LLM adds before search (`query_expansion`), fused with the question's."""

    @property
    def name(self) -> str:
        """The name reports and `--configs` use: bm25, dense+hyde, hybrid-alpha+multi+rerank."""
        base = {Fusion.SPARSE: "bm25", Fusion.DENSE: "dense"}.get(self.mode, f"hybrid-{self.mode}")
        base += f"+{self.expansion}" if self.expansion else ""
        return f"{base}+rerank" if self.rerank else base


# What a run without --configs measures: no config that needs the LLM, so it stays fast.
DEFAULT_CONFIGS: tuple[ConfigSpec, ...] = (
    ConfigSpec(Fusion.SPARSE),
    ConfigSpec(Fusion.DENSE),
    ConfigSpec(Fusion.RRF),
    ConfigSpec(Fusion.ALPHA),
    ConfigSpec(Fusion.RRF, rerank=True),
    ConfigSpec(Fusion.ALPHA, rerank=True),
)
CONFIGS: dict[str, ConfigSpec] = {
    spec.name: spec
    for expansion in (None, *get_args(Expansion))
    for base in DEFAULT_CONFIGS
    for spec in [ConfigSpec(base.mode, base.rerank, expansion)]
}


@dataclass(frozen=True)
class TuningGrid:
    """Values tried on the tuning split."""

    alphas: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(11))
    rrf_ks: tuple[int, ...] = (5, 10, 20, 40, 60, 100)
    rerank_depths: tuple[int, ...] = (10, 20, 30, 50)
    # BM25's term-frequency saturation (k1) and length normalisation (b), around Lucene's
    # defaults (1.2, 0.75); each pair is one index build over the collection's children.
    bm25_k1s: tuple[float, ...] = (0.9, 1.2, 1.5, 2.0)
    bm25_bs: tuple[float, ...] = (0.5, 0.75, 0.9)


@dataclass
class Tuning:
    split: str
    queries: int
    rrf_k: int
    alpha: float
    bm25_k1: float | None = None
    bm25_b: float | None = None
    rerank_depth: int | None = None
    grid: dict[str, dict[str, float]] = field(default_factory=dict)
    """nDCG@10 on the tuning split for every value tried, e.g. grid["alpha"]["0.7"]."""


class EvalCollection:
    """An ingested collection under evaluation: the chat's retrieval path over it, and the
    document each of its chunks stands for (its source as ingested, plus the sources of its
    near-duplicates). `qrels` name documents the same way."""

    def __init__(self, settings: Settings, qrels: Mapping[str, Mapping[str, int]]) -> None:
        self.settings = settings
        self.qrels = qrels
        self.store = CollectionStore(settings)
        self._docs: dict[str, list[str]] | None = None
        self.keyword_index: BM25Index | None = None
        """The BM25 index with the k1/b chosen on the tuning split, once tuned."""

    @classmethod
    def from_questions(
        cls, settings: Settings, questions: Path
    ) -> tuple[EvalCollection, dict[str, str]]:
        """The configured collection as the user ingested it, judged by a question file
        naming each question's source documents (`rag questions generate` writes one), and
        the questions by id. A question none of whose sources is in the collection is an
        error naming its line."""
        from rag_app.tuning.data import load_labelled

        collection = cls(settings, {})
        try:
            labelled = load_labelled(questions, collection.store.state.documents().keys())
        except BaseException:
            collection.close()
            raise
        collection.qrels = {q.id: dict.fromkeys(q.relevant, 1) for q in labelled}
        return collection, {q.id: q.question for q in labelled}

    def doc_id(self, source: str) -> str:
        return source

    def prepare(self, progress: bool = False) -> dict[str, Any]:
        """Nothing to ingest: the collection is measured as it is."""
        return {"seconds": 0.0, "summary": "measured as ingested", **self._stats()}

    def _stats(self) -> dict[str, int]:
        stats = self.store.state.stats()
        return {
            "documents": stats.documents,
            "children": stats.chunks,
            "duplicates": stats.duplicates,
        }

    def docs_of(self, chunk_id: str) -> list[str]:
        """Document ids holding a child: its own, then those of its near-duplicates."""
        if self._docs is None:
            children = self.store.state.children()
            self._docs = {c.id: [self.doc_id(c.source)] for c in children}
            ids = list(self._docs)
            for start in range(0, len(ids), 5000):
                found = self.store.state.duplicate_sources(ids[start : start + 5000])
                for chunk_id_, sources in found.items():
                    self._docs[chunk_id_].extend(self.doc_id(s) for s in sources)
        return self._docs.get(chunk_id, [])

    def rank_documents(self, chunk_ids: Sequence[str]) -> list[str]:
        return list(dict.fromkeys(d for c in chunk_ids for d in self.docs_of(c)))

    def chunks_for(self, documents: int) -> int:
        """Chunks to fetch so that about `documents` distinct documents come back."""
        stats = self.store.state.stats()
        per_doc = stats.chunks / max(1, stats.documents)
        return max(documents, math.ceil(documents * per_doc * 1.5))

    def retriever(self, mode: Fusion, candidates: int, tuning: Tuning | None) -> HybridRetriever:
        s = self.settings
        return HybridRetriever(
            self.store,
            mode,
            candidates,
            tuning.rrf_k if tuning else s.rrf_k,
            tuning.alpha if tuning else s.alpha,
            s.exact_search_limit,
            self.keyword_index,
        )

    def pipeline(
        self,
        mode: Fusion,
        candidates: int,
        tuning: Tuning | None,
        reranker: Reranker | None = None,
        depth: int | None = None,
    ) -> RetrievalPipeline:
        """The chat's retrieval path over this collection, with the tuned fusion; its
        keyword-only retry uses the tuned BM25 too."""
        keyword = (
            self.retriever(Fusion.SPARSE, candidates, tuning) if mode != Fusion.SPARSE else None
        )
        return RetrievalPipeline.from_settings(
            self.settings,
            self.retriever(mode, candidates, tuning),
            reranker=reranker,
            keyword_retriever=keyword,
            depth=depth,
            store=self.store,
        )

    def close(self) -> None:
        self.store.close()


class BeirCollection(EvalCollection):
    """A BEIR corpus ingested as a collection of its own; its documents are the corpus ids."""

    def __init__(
        self, dataset: BeirDataset, settings: Settings, collection: str | None = None
    ) -> None:
        super().__init__(
            settings.updated(collection=collection or f"beir-{dataset.name}"), dataset.qrels
        )
        self.dataset = dataset
        self.folder = settings.home / "eval" / "beir" / dataset.name / "docs"

    def write_corpus(self) -> int:
        """One Markdown file per document; only changed ones are rewritten, and files of
        documents no longer in the corpus are removed (ingest then prunes them)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        wanted: dict[str, str] = {}
        for doc in self.dataset.corpus.values():
            body = doc.text.strip() or doc.title.strip()
            wanted[doc_filename(doc.id)] = (
                f"# {doc.title.strip()}\n\n{body}\n" if doc.title.strip() else f"{body}\n"
            )
        written = 0
        for name, text in wanted.items():
            path = self.folder / name
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
                written += 1
        for stale in self.folder.glob("*.md"):
            if stale.name not in wanted:
                stale.unlink()
        return written

    def prepare(self, progress: bool = False) -> dict[str, Any]:
        from ingest.pipeline import Ingestor

        started = time.perf_counter()
        self.write_corpus()
        report = Ingestor(self.settings, self.store).run([self.folder], progress=progress)
        if not report.ok:
            failed = report.failures()
            raise UserError(f"ingesting the {self.dataset.name} corpus failed: {failed[:3]}")
        self._docs = None
        return {
            "seconds": round(time.perf_counter() - started, 1),
            "summary": report.summary(),
            **self._stats(),
        }

    def doc_id(self, source: str) -> str:
        return doc_id_of(source)


@dataclass
class ConfigRun:
    ranked: dict[str, list[str]]
    seconds: list[float]
    refused: list[bool] = field(default_factory=list)
    """Per query: the gate would have abstained (the ranking is scored all the same)."""

    def metrics(self, qrels: Mapping[str, Mapping[str, int]]) -> dict[str, float]:
        results = evaluate(self.ranked, qrels, METRICS)
        results["refused"] = sum(self.refused) / len(self.refused) if self.refused else math.nan
        results["latency_p50_ms"] = percentile_ms(self.seconds, 50)
        results["latency_p95_ms"] = percentile_ms(self.seconds, 95)
        return results


def _progress(items: Any, desc: str, show: bool) -> Any:
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="q", leave=False, disable=not show)


def run_config(
    collection: EvalCollection,
    pipeline: RetrievalPipeline,
    queries: Mapping[str, str],
    keep: int,
    progress: bool = False,
    desc: str = "",
    expansions: Mapping[str, QueryExpansion] | None = None,
) -> ConfigRun:
    """Each query through the chat's retrieval pipeline, `keep` deep, timed end to end: with
    `expansions`, the LLM's time to write a query's expansions is part of its latency."""
    run = ConfigRun({}, [])
    for qid, text in _progress(list(queries.items()), desc, progress):
        expanded = expansions.get(qid) if expansions else None
        started = time.perf_counter()
        found = pipeline.run(text, expanded.expansions if expanded else (), keep=keep)
        run.seconds.append(time.perf_counter() - started + (expanded.seconds if expanded else 0))
        run.ranked[qid] = collection.rank_documents([h.chunk.id for h in found.hits])
        run.refused.append(not found.gate.confident)
    return run


def paired_gain(
    config: ConfigRun, base: ConfigRun, qrels: Mapping[str, Mapping[str, int]]
) -> dict[str, float]:
    """nDCG@10 of a config minus that of the same config without its last stage (rerank,
    query expansion), with a paired bootstrap 95 % interval over the queries: whether the
    stage's gain is more than the luck of which queries were asked."""
    a, b = (per_query(run.ranked, qrels, "ndcg@10") for run in (config, base))
    low, high = paired_bootstrap_interval([a[q] for q in a], [b[q] for q in a])
    return {
        "ndcg@10": sum(a.values()) / len(a) - sum(b.values()) / len(b),
        "low": low,
        "high": high,
    }


def _mean_ndcg10(ranked: Mapping[str, list[str]], qrels: Mapping[str, Mapping[str, int]]) -> float:
    return evaluate(ranked, qrels, ["ndcg@10"])["ndcg@10"]


def tune_fusion(
    dense: Mapping[str, Ranking],
    sparse: Mapping[str, Ranking],
    qrels: Mapping[str, Mapping[str, int]],
    to_docs: Callable[[Sequence[str]], list[str]],
    grid: TuningGrid,
) -> tuple[int, float, dict[str, dict[str, float]]]:
    """Best RRF k and best alpha by mean nDCG@10, over rankings computed once per query
    (fusion is a pure function, so the grid costs no further searches). Ties go to the first
    value in the grid."""
    table: dict[str, dict[str, float]] = {"rrf_k": {}, "alpha": {}}

    def score(fuse: Callable[[Ranking, Ranking], list[tuple[str, float]]]) -> float:
        ranked = {q: to_docs([i for i, _ in fuse(dense[q], sparse[q])]) for q in dense}
        return _mean_ndcg10(ranked, qrels)

    def rrf(k: int) -> Callable[[Ranking, Ranking], list[tuple[str, float]]]:
        return lambda d, s: reciprocal_rank_fusion([d, s], k)

    def blend(a: float) -> Callable[[Ranking, Ranking], list[tuple[str, float]]]:
        return lambda d, s: weighted_fusion(d, s, a)

    for k in grid.rrf_ks:
        table["rrf_k"][str(k)] = score(rrf(k))
    for a in grid.alphas:
        table["alpha"][str(a)] = score(blend(a))
    best_k = max(grid.rrf_ks, key=lambda k: table["rrf_k"][str(k)])
    best_alpha = max(grid.alphas, key=lambda a: table["alpha"][str(a)])
    return best_k, best_alpha, table


def tune_bm25(
    build: Callable[[float, float], BM25Index],
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
    to_docs: Callable[[Sequence[str]], list[str]],
    grid: TuningGrid,
    n: int,
) -> tuple[BM25Index, dict[str, float]]:
    """The BM25 index whose (k1, b) gives the best mean nDCG@10 on its own, and the score of
    every pair tried ("k1,b"); ties go to the first pair in the grid."""
    table: dict[str, float] = {}
    best: tuple[float, BM25Index] | None = None
    for k1 in grid.bm25_k1s:
        for b in grid.bm25_bs:
            index = build(k1, b)
            ranked = {q: to_docs([i for i, _ in index.search(t, n)]) for q, t in queries.items()}
            table[f"{k1},{b}"] = score = _mean_ndcg10(ranked, qrels)
            if best is None or score > best[0]:
                best = (score, index)
    if best is None:
        raise ValueError("the tuning grid has no BM25 (k1, b) pair")
    return best[1], table


def tune(
    collection: EvalCollection,
    folder: Path,
    split: str,
    reranker: Reranker | None,
    grid: TuningGrid,
    limit: int | None,
    progress: bool,
) -> Tuning:
    """BM25's k1 and b, then the fusion parameters over that BM25, then (with a reranker) the
    rerank depth, on `split`'s queries."""
    all_queries, qrels = load_beir_queries(folder, split)  # the corpus is ingested already
    queries = dict(list(all_queries.items())[:limit]) if limit else all_queries
    n = collection.chunks_for(100)
    state = collection.store.state
    children, generation = state.children(), state.generation
    keyword_index, bm25_table = tune_bm25(
        lambda k1, b: BM25Index.build(children, generation, k1, b),
        queries,
        qrels,
        collection.rank_documents,
        grid,
        n,
    )
    collection.keyword_index = keyword_index
    base = collection.retriever(Fusion.RRF, n, None)
    dense: dict[str, Ranking] = {}
    sparse: dict[str, Ranking] = {}
    for qid, text in _progress(list(queries.items()), f"tune ({split})", progress):
        dense[qid] = base.dense(text, n)
        sparse[qid] = base.sparse(text, n)
    rrf_k, alpha, table = tune_fusion(dense, sparse, qrels, collection.rank_documents, grid)
    table["bm25"] = bm25_table
    k1, b = (float(v) for v in max(bm25_table, key=lambda key: bm25_table[key]).split(","))
    tuning = Tuning(split, len(queries), rrf_k, alpha, k1, b, grid=table)
    if reranker is None or collection.settings.rerank_depth or getattr(reranker, "depth", None):
        return tuning  # the depth is configured, or chosen on the tuned model's validation set
    best_mode: Fusion = (
        Fusion.RRF if max(table["rrf_k"].values()) >= max(table["alpha"].values()) else Fusion.ALPHA
    )
    pipelines = {
        depth: collection.pipeline(best_mode, n, tuning, reranker, depth)
        for depth in sorted(grid.rerank_depths, reverse=True)  # the deepest fills the cache
    }
    per_depth: dict[int, list[float]] = {d: [] for d in grid.rerank_depths}
    for qid, text in _progress(list(queries.items()), f"tune depth ({split})", progress):
        for depth, pipeline in pipelines.items():
            found = pipeline.run(text, keep=n)
            docs = collection.rank_documents([h.chunk.id for h in found.hits])
            per_depth[depth].append(ndcg_at_k(docs, qrels[qid], 10))
    table["rerank_depth"] = {
        str(d): sum(v) / len(v) if v else math.nan for d, v in per_depth.items()
    }
    tuning.rerank_depth = max(grid.rerank_depths, key=lambda d: table["rerank_depth"][str(d)])
    return tuning


def evaluate_retrieval(
    dataset: Path | None,
    settings: Settings,
    configs: Sequence[str] | None = None,
    split: str = "test",
    tune_split: str | None = "train",
    tune_limit: int | None = None,
    limit: int | None = None,
    out: Path | None = None,
    progress: bool = False,
    grid: TuningGrid | None = None,
    collections: Sequence[str] | None = None,
    questions: Path | None = None,
) -> dict[str, Any]:
    """Run every named config on `split` and write results.json, results.md and results.png
    to `out` (`configs` None: all of them). Configs needing a cross-encoder are reported as
    skipped, with the reason, when none can be loaded (never with the fused numbers under a
    rerank label).

    `collections` compares collections of the same corpus side by side (e.g. before and after
    `rag tune`): each is ingested, tuned on `tune_split` and evaluated with its own models, and
    its rows are named "CONFIG [COLLECTION]". None: one collection, `beir-NAME`.

    `questions` instead of a dataset: a question file naming each question's source documents
    (`rag questions generate` writes one), over collections as the user ingested them (None:
    the configured one). Nothing is ingested, and fusion keeps its configured values: every
    question is reported, none is left to tune on."""
    configs = [spec.name for spec in DEFAULT_CONFIGS] if configs is None else configs
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        raise InvalidInput(f"unknown retrieval config(s) {unknown}; choose from {list(CONFIGS)}")
    started = time.perf_counter()
    opened: list[tuple[str, EvalCollection]] = []
    queries: dict[str, str] = {}
    results: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    variants: dict[str, dict[str, Any]] = {}
    try:
        if questions is not None:
            names = list(collections) if collections else [settings.collection]
            for name in names:
                collection, queries = EvalCollection.from_questions(
                    settings.updated(collection=name), questions
                )
                opened.append((name, collection))
            dataset, split, tune_split = None, "all", None
            about = {"name": questions.stem, "path": str(questions)}
        elif dataset is not None:
            data = load_beir(dataset, split)
            queries = data.queries
            names = list(collections) if collections else [f"beir-{data.name}"]
            opened = [(name, BeirCollection(data, settings, name)) for name in names]
            if tune_split is not None and not (dataset / "qrels" / f"{tune_split}.tsv").is_file():
                tune_split = None
            about = {"name": data.name, "path": str(dataset)}
        else:
            raise InvalidInput("give a BEIR dataset folder or a question file")
        queries = dict(list(queries.items())[:limit]) if limit else queries
        expansions = {
            kind: expand_queries(
                queries, kind, settings, out / f"expansions-{kind}.jsonl" if out else None, progress
            )
            for kind in dict.fromkeys(CONFIGS[c].expansion for c in configs)
            if kind is not None
        }
        for name, collection in opened:
            variant = _evaluate_collection(
                collection,
                dataset,
                configs,
                queries,
                tune_split,
                tune_limit,
                grid,
                progress,
                expansions,
            )
            label = "" if len(names) == 1 else f" [{name}]"
            results.update({f"{c}{label}": m for c, m in variant.pop("configs").items()})
            skipped.update({f"{c}{label}": r for c, r in variant.pop("skipped").items()})
            variants[name] = variant
    finally:
        for _, collection in opened:
            collection.close()
    report = {
        "dataset": {
            **about,
            "split": split,
            "queries": len(queries),
            "corpus": next(iter(variants.values()))["ingest"]["documents"],
        },
        "collections": variants,
        "configs": results,
        "skipped": skipped,
        **provenance(),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    if out is not None:
        write_retrieval_report(report, out)
    return report


def _evaluate_collection(
    collection: EvalCollection,
    dataset: Path | None,
    configs: Sequence[str],
    queries: Mapping[str, str],
    tune_split: str | None,
    tune_limit: int | None,
    grid: TuningGrid | None,
    progress: bool,
    expansions: Mapping[Expansion, Mapping[str, QueryExpansion]],
) -> dict[str, Any]:
    settings = collection.settings
    ingest = collection.prepare(progress)
    reranker, reranker_note = _reranker(collection, any(CONFIGS[c].rerank for c in configs))
    tuning = None
    if tune_split is not None and dataset is not None:
        tuning = tune(
            collection, dataset, tune_split, reranker, grid or TuningGrid(), tune_limit, progress
        )
    caveat = _trained_on(collection, dataset, tune_split)
    n = collection.chunks_for(100)
    depth, depth_source = rerank_depth_source(
        settings, reranker, tuning.rerank_depth if tuning else None
    )
    results: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    runs: dict[str, ConfigRun] = {}
    for name in configs:
        spec = CONFIGS[name]
        if spec.rerank and reranker is None:
            skipped[name] = reranker_note
            continue
        reranking = reranker if spec.rerank else None
        pipeline = collection.pipeline(spec.mode, n, tuning, reranking, depth)
        expanded = expansions[spec.expansion] if spec.expansion else None
        runs[name] = run_config(collection, pipeline, queries, n, progress, f"{name} ", expanded)
        results[name] = runs[name].metrics(collection.qrels)
    for name, run in runs.items():
        spec = CONFIGS[name]
        bases = {
            "rerank_gain": ConfigSpec(spec.mode, expansion=spec.expansion) if spec.rerank else None,
            "expansion_gain": ConfigSpec(spec.mode, spec.rerank) if spec.expansion else None,
        }
        for key, base in bases.items():
            if base is not None and base.name in runs:
                results[name][key] = paired_gain(run, runs[base.name], collection.qrels)
    return {
        "models": {"embedding": collection.store.embedding_model, "reranker": reranker_note},
        "settings": {
            "child_chunk_tokens": settings.child_chunk_tokens,
            "child_overlap_tokens": settings.child_overlap_tokens,
            "parent_child": settings.parent_child,
            "bm25_k1": tuning.bm25_k1 if tuning else settings.bm25_k1,
            "bm25_b": tuning.bm25_b if tuning else settings.bm25_b,
            "chunks_retrieved_per_query": n,
            "rrf_k": tuning.rrf_k if tuning else settings.rrf_k,
            "alpha": tuning.alpha if tuning else settings.alpha,
            "rerank_depth": depth,
            "rerank_depth_source": depth_source,
        },
        "tuning": tuning.__dict__ if tuning else None,
        "tuning_caveat": caveat,
        "ingest": ingest,
        "configs": results,
        "skipped": skipped,
    }


def _trained_on(collection: EvalCollection, dataset: Path | None, split: str | None) -> str | None:
    """A warning when fusion is tuned on the very queries the collection's bi-encoder was
    trained on (`rag tune`): dense looks better on them than on unseen queries, which pulls
    the chosen weights towards it."""
    from rag_app.models.cards import EmbedderCard, read_card

    tuned = collection.store.tuned_embedder
    card = read_card(Path(tuned.model), EmbedderCard) if tuned else None
    if split is None or dataset is None or card is None:
        return None
    data = card.data
    if data.split != split or Path(data.labels).resolve() != dataset.resolve():
        return None
    return (
        f"the bi-encoder was trained on {split} queries of this dataset, the same queries "
        "that tuned the fusion here: expect the weights to favour dense (compare with "
        "--tune-split none)"
    )


def _reranker(collection: EvalCollection, wanted: bool) -> tuple[Reranker | None, str]:
    if not wanted:
        return None, "not used"
    from rag_app.retrieval.rerank import CrossEncoderReranker, load_reranker

    reranker = load_reranker(collection.settings)
    if isinstance(reranker, CrossEncoderReranker):
        return reranker, reranker.model_name
    return None, f"skipped: {reranker.reason} (train one with `rag tune`)"


def write_retrieval_report(report: Mapping[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / "results.json", report)
    data, configs = report["dataset"], report["configs"]
    title = f"{data['name']} ({data['split']}, {data['queries']} queries)"
    lines = [
        f"# Retrieval: {title}",
        "",
        markdown_table(
            configs, [*METRICS, "refused", "latency_p50_ms", "latency_p95_ms"], "config"
        ),
        "",
    ]
    for name, reason in report["skipped"].items():
        lines.append(f"- `{name}`: {reason}")
    for key, stage in (("rerank_gain", "rerank"), ("expansion_gain", "query expansion")):
        gains = {name: m[key] for name, m in configs.items() if key in m}
        if gains:
            lines += [
                "",
                f"Gain of {stage} in nDCG@10 over the same config without it (paired "
                "bootstrap 95 % interval over the queries):",
                "",
            ]
            lines += [
                f"- `{name}`: {g['ndcg@10']:+.4f} [{g['low']:+.4f}, {g['high']:+.4f}]"
                for name, g in gains.items()
            ]
    for name, variant in report["collections"].items():
        s, tuning = variant["settings"], variant["tuning"]
        lines += ["", f"Collection `{name}`: embedding model `{variant['models']['embedding']}`;"]
        lines.append(f"reranker: {variant['models']['reranker']}.")
        if tuning:
            lines.append(
                f"Tuned on `{tuning['split']}` ({tuning['queries']} queries, nDCG@10): "
                f"BM25 k1 = {tuning.get('bm25_k1')}, b = {tuning.get('bm25_b')}; "
                f"RRF k = {tuning['rrf_k']}, alpha = {tuning['alpha']}."
            )
        if variant.get("tuning_caveat"):
            lines.append(f"Caveat: {variant['tuning_caveat']}.")
        lines.append(f"Rerank depth {s['rerank_depth']} ({s['rerank_depth_source']}).")
        ingest = variant["ingest"]
        lines.append(f"Ingest {ingest['seconds']} s: {ingest['summary']}.")
    chunks = {v["settings"]["chunks_retrieved_per_query"] for v in report["collections"].values()}
    lines += [
        "",
        f"Each query fetches {'/'.join(map(str, sorted(chunks)))} chunks (enough for 100 "
        "distinct documents); latency is per query, retrieval plus rerank, on this machine: "
        + str(report["machine"])
        + (f', "{report["cpu"]}"' if report.get("cpu") else "")
        + ".",
        f"Commit {report['git_commit']}, {report['date']}, wall time {report['wall_seconds']} s.",
        "",
        "![quality against latency](results.png)",
        "",
    ]
    (out / "results.md").write_text("\n".join(lines))
    quality_vs_latency_plot(configs, ["recall@5", "ndcg@10"], out / "results.png", title)
