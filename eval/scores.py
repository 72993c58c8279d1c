"""`rag eval scores`: do retrieval scores tell answerable questions from unanswerable ones?

Retrieval only (no LLM), so it is quick: every question goes through the configured hybrid
retriever (and cross-encoder, when one loads), and the scores the chain's abstention looks at
are collected for answerable and unanswerable questions separately. The recommended
`min_dense_similarity` is the highest threshold that still lets through a chosen share of the
answerable questions; the report shows what it then refuses of the unanswerable ones, beside
the configured value, so the threshold is set from data rather than by guess.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.diagnostics import finish_report, write_report
from eval.questions import Question, load_questions
from eval.report import markdown_table
from eval.vector_stats import abstention_threshold, balanced_accuracy
from rag_app.config import Fusion, Settings
from rag_app.errors import InvalidInput, UserError
from rag_app.retrieval.hybrid import HybridRetriever
from rag_app.retrieval.pipeline import RetrievalPipeline
from rag_app.retrieval.rerank import CrossEncoderReranker, load_reranker
from rag_app.store import CollectionStore

SCORES = {
    "gate": "best dense cosine among the hits the chain reads (what min_dense_similarity tests)",
    "top1": "top-1 dense cosine",
    "top10_mean": "mean of the top-10 dense cosines",
    "rerank_top1": "best cross-encoder score among the hits the chain reads (min_rerank_score)",
}


def question_scores(
    question: str, retriever: HybridRetriever, pipeline: RetrievalPipeline
) -> dict[str, float]:
    """The raw dense cosines beside the scores the chain's gate reads, from the chain's own
    retrieval path (so the recommended threshold is one for the gate as it runs)."""
    dense = [s for _, s in retriever.dense(question, 10)]
    found = pipeline.run(question)
    scores = {
        "top1": dense[0] if dense else float("nan"),
        "top10_mean": statistics.fmean(dense) if dense else float("nan"),
        "gate": found.best("dense"),
    }
    if pipeline.reranker is not None:
        scores["rerank_top1"] = found.best("rerank")
    return scores


def summarise(
    answerable: Sequence[float], unanswerable: Sequence[float], threshold: float
) -> dict[str, float]:
    return {
        "threshold": threshold,
        "answerable_kept": sum(s >= threshold for s in answerable) / len(answerable),
        "unanswerable_refused": (
            sum(s < threshold for s in unanswerable) / len(unanswerable)
            if unanswerable
            else float("nan")
        ),
        "balanced_accuracy": (
            balanced_accuracy(answerable, unanswerable, threshold) if unanswerable else float("nan")
        ),
    }


def evaluate_scores(
    questions_file: Path,
    settings: Settings,
    out: Path | None = None,
    docs: Path | None = None,
    unanswerable: str | None = None,
    keep: float = 0.95,
    progress: bool = False,
) -> dict[str, Any]:
    from tqdm import tqdm

    started = time.perf_counter()
    questions: list[Question] = load_questions(questions_file, unanswerable)
    with CollectionStore(settings) as store:
        if docs is not None:
            from ingest.pipeline import Ingestor

            ingested = Ingestor(settings, store).run([docs], progress=progress)
            if not ingested.ok:
                raise UserError(f"ingesting {docs} failed: {ingested.failures()[:3]}")
        loaded = load_reranker(settings) if settings.rerank else None
        reranker = loaded if isinstance(loaded, CrossEncoderReranker) else None
        retriever = HybridRetriever.from_store(store)
        keyword = HybridRetriever.from_store(store, mode=Fusion.SPARSE)
        pipeline = RetrievalPipeline.from_settings(
            settings, retriever, reranker, keyword, store=store
        )
        per_question = [
            {
                "id": q.id,
                "answerable": q.answerable,
                **question_scores(q.question, retriever, pipeline),
            }
            for q in tqdm(questions, desc="questions", unit="q", leave=False, disable=not progress)
        ]
    groups = {
        flag: [row for row in per_question if row["answerable"] is flag] for flag in (True, False)
    }
    if not groups[True]:
        raise InvalidInput(f"{questions_file}: no answerable question to set a threshold from")
    names = [n for n in SCORES if n in per_question[0]]
    distributions = {
        f"{name} {label}": _describe(_measured(row[name] for row in groups[flag]))
        for name in names
        for flag, label in ((True, "answerable"), (False, "unanswerable"))
        if groups[flag]
    }
    # NaN: a keyword-only retry's hits carry no dense score (only with a cross-encoder, whose
    # own score is the gate then).
    gate = {flag: _measured(row["gate"] for row in rows) for flag, rows in groups.items()}
    recommended = abstention_threshold(gate[True], keep)
    thresholds = {
        "configured": summarise(gate[True], gate[False], settings.min_dense_similarity),
        f"keeps {keep:.0%} answerable": summarise(gate[True], gate[False], recommended),
    }
    report = finish_report(
        {
            "questions": str(questions_file),
            "collection": settings.collection,
            "answerable": len(groups[True]),
            "unanswerable": len(groups[False]),
            "fusion": settings.fusion,
            "reranker": reranker.model_name
            if reranker
            else f"none: {getattr(loaded, 'reason', 'rerank = false')}",
            "keep": keep,
            # rounded down, so the rounded value still keeps the share asked for
            "recommended_min_dense_similarity": math.floor(recommended * 100) / 100,
            "distributions": distributions,
            "thresholds": thresholds,
            "per_question": per_question,
        },
        started,
    )
    if out is not None:
        write_scores_report(report, out, names)
    return report


def _measured(values: Iterable[float]) -> list[float]:
    return [v for v in values if not math.isnan(v)]


def _describe(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"n": 0.0, **dict.fromkeys(("min", "median", "mean", "max"), math.nan)}
    return {
        "n": float(len(ordered)),
        "min": ordered[0],
        "median": statistics.median(ordered),
        "mean": statistics.fmean(ordered),
        "max": ordered[-1],
    }


def write_scores_report(report: dict[str, Any], out: Path, names: Sequence[str]) -> None:
    lines = [
        f"# Score health: `{report['collection']}`",
        "",
        f"{report['answerable']} answerable and {report['unanswerable']} unanswerable "
        f"questions from `{report['questions']}`, retrieval only (fusion `{report['fusion']}`); "
        f"reranker: {report['reranker']}.",
        "",
        *(f"- `{n}`: {SCORES[n]}" for n in names),
        "",
        markdown_table(report["distributions"], ["n", "min", "median", "mean", "max"], "score"),
        "",
        "## Abstention threshold (`min_dense_similarity`, on `gate`)",
        "",
        markdown_table(
            report["thresholds"],
            ["threshold", "answerable_kept", "unanswerable_refused", "balanced_accuracy"],
            "setting",
        ),
        "",
        f"Recommended: **{report['recommended_min_dense_similarity']}**, the highest threshold "
        f"that still passes {report['keep']:.0%} of the answerable questions to the LLM (which "
        "can abstain on its own as well).",
        "",
        "![score histograms](results.png)",
    ]
    write_report(out, report, lines)
    histograms(report["per_question"], names, report["thresholds"], out / "results.png")


def histograms(
    rows: Sequence[Mapping[str, Any]],
    names: Sequence[str],
    thresholds: Mapping[str, Mapping[str, float]],
    path: Path,
) -> None:
    """One panel per score: answerable and unanswerable overlaid, thresholds on `gate`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(names), figsize=(4.6 * len(names), 3.8), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        # shared by both groups
        bins = np.histogram_bin_edges(_measured(r[name] for r in rows), bins=24)
        for flag, label, colour in (
            (True, "answerable", "#4C72B0"),
            (False, "unanswerable", "#DD8452"),
        ):
            values = _measured(r[name] for r in rows if r["answerable"] is flag)
            if values:
                ax.hist(
                    values, bins=bins, alpha=0.6, label=f"{label} ({len(values)})", color=colour
                )
        if name == "gate":
            for (label, t), style in zip(thresholds.items(), ("--", ":"), strict=False):
                ax.axvline(
                    t["threshold"],
                    linestyle=style,
                    color="black",
                    label=f"{label}: {t['threshold']:.2f}",
                )
        ax.set_title(name)
        ax.set_xlabel("score")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
