"""The Markdown summary of a benchmark run: goals first (met or not), then each part's table.

A pure function of the results dict, so it is tested on hand-made results and a part that
failed or did not run shows as missing, never as a number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from eval.report import markdown_table

Goal = tuple[str, Callable[[dict[str, Any]], float | None], str, Callable[[float], bool]]


def _get(result: dict[str, Any], *path: str) -> Any:
    value: Any = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


GOALS: list[Goal] = [
    (
        "ingest chunks/s ÷ raw encode, FastAPI docs",
        lambda r: _get(r, "ingest-fastapi", "ingest", "ratio_to_raw_encode"),
        "≥ 0.8",
        lambda v: v >= 0.8,
    ),
    (
        "ingest chunks/s ÷ raw encode, SciFact",
        lambda r: _get(r, "ingest-scifact", "ingest", "ratio_to_raw_encode"),
        "≥ 0.8",
        lambda v: v >= 0.8,
    ),
    (
        "unchanged re-ingest ÷ first ingest, FastAPI docs",
        lambda r: _get(r, "ingest-fastapi", "ingest", "reingest_share_of_first"),
        "< 0.05",
        lambda v: v < 0.05,
    ),
    (
        "unchanged re-ingest ÷ first ingest, SciFact",
        lambda r: _get(r, "ingest-scifact", "ingest", "reingest_share_of_first"),
        "< 0.05",
        lambda v: v < 0.05,
    ),
    (
        "retrieval + rerank ÷ cross-encoder alone (p50)",
        lambda r: _get(r, "query", "retrieve_rerank_over_cross_encoder_p50"),
        "≤ 1.5",
        lambda v: v <= 1.5,
    ),
    (
        "`rag --help`, seconds (median)",
        lambda r: _get(r, "startup", "help", "median_s"),
        "< 1",
        lambda v: v < 1.0,
    ),
    (
        "LLM prefill through the chat model ÷ the binary's ceiling, 1,024 tokens",
        lambda r: _get(r, "llm", "speeds", "1024", "prefill_of_ceiling"),
        "≥ 0.8",
        lambda v: v >= 0.8,
    ),
    (
        "first word from the LLM to the chat page, ms (p95)",
        lambda r: _get(r, "stream", "first_word_to_page", "p95_ms"),
        "≤ 300",
        lambda v: v <= 300,
    ),
]


def _goals(parts: dict[str, Any]) -> str:
    lines = ["| measure | value | goal | met |", "|---|---:|---|---|"]
    for name, read, goal, met in GOALS:
        value = read(parts)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            lines.append(f"| {name} | – | {goal} | not measured |")
        else:
            lines.append(f"| {name} | {value:.4g} | {goal} | {'yes' if met(value) else 'NO'} |")
    return "\n".join(lines)


def _ingest(parts: dict[str, Any]) -> str:
    rows = {
        name.removeprefix("ingest-"): part["ingest"] | {"peak_rss_mb": part.get("peak_rss_mb")}
        for name, part in parts.items()
        if name.startswith("ingest-") and "ingest" in part
    }
    columns = (
        "files",
        "chunks",
        "ingest_s",
        "ingest_chunks_per_s",
        "raw_encode_chunks_per_s",
        "ratio_to_raw_encode",
        "reingest_unchanged_s",
        "reingest_share_of_first",
        "peak_rss_mb",
    )
    return markdown_table(rows, columns, "corpus") if rows else "_not run_"


def _query(part: dict[str, Any] | None) -> str:
    if not part or "stages" not in part:
        return "_not run_"
    head = (
        f"{part['queries']} SciFact test queries ({part['llm_queries']} answered by "
        f"`{part['llm']}`, {part.get('llm_abstained', 0)} abstained); reranker: "
        f"{part['reranker']}, depth {part['rerank_depth']}, max_length "
        f"{part['rerank_max_length']}; warm-up {part['warm_up_s']} s."
    )
    table = markdown_table(part["stages"], ("p50_ms", "p95_ms", "n"), "stage")
    return f"{head}\n\n{table}"


def _scale(part: dict[str, Any] | None) -> str:
    if not part or "scale" not in part:
        return "_not run_"
    rows: dict[str, dict[str, Any]] = {}
    for row in part["scale"]:
        for mode in ("embedded", "server"):
            found = row[mode]
            rows[f"{row['size']:,} {mode}"] = {
                "build_s": row["build_s"],
                "disk_mb": row["disk_mb"],
                "first_query_ms": found["first_query_ms"],
                "p50_ms": found["p50_ms"],
                "p95_ms": found["p95_ms"],
                "index_rss_mb": found["rss_loaded_mb"] - found["rss_before_mb"],
            }
    head = (
        f"{part['dimensions']}-d vectors drawn {part['vectors']}; top-{part['k']}, HNSW "
        f"{part['hnsw']}; {part['queries']} queries. `index_rss_mb` is the process's (or the "
        "server's) resident memory after loading and searching, minus before."
    )
    columns = ("build_s", "disk_mb", "first_query_ms", "p50_ms", "p95_ms", "index_rss_mb")
    return f"{head}\n\n{markdown_table(rows, columns, 'vectors, mode')}"


def _profile(part: dict[str, Any] | None) -> str:
    if not part or "stage_share" not in part:
        return "_not run_"
    over = f"{part['queries']} queries" if part.get("queries") else "the first ingest"
    stages = "\n".join(f"| {k} | {v:.1%} |" for k, v in part["stage_share"].items())
    top = "\n".join(f"| `{t['function']}` | {t['share']:.1%} |" for t in part["top_self"][:10])
    ours = part["self_share_in_our_code"]
    return (
        f"py-spy, {part['samples']} samples over {over} "
        f"(stacks: `{part['stacks_file']}`). Self time in our own Python code: "
        f"{ours:.1%}.\n\n| stage | share of samples |\n|---|---:|\n{stages}\n\n"
        f"| function (self time) | share |\n|---|---:|\n{top}"
    )


def _startup(part: dict[str, Any] | None) -> str:
    if not part or "help" not in part:
        return "_not run_"
    help_ = part["help"]
    lines = [
        f"- `rag --help`: median {help_['median_s']} s, max {help_['max_s']} s over "
        f"{help_['runs']} runs; heavy modules imported by the CLI: "
        f"{help_['heavy_modules_imported_by_cli']}"
    ]
    if "ask" in part:
        ask = part["ask"]
        lines.append(
            f"- `rag ask` (warm page cache): median wall {ask['median_wall_s']} s, of which "
            f"starting (imports, store, models) {ask['median_startup_s']} s"
        )
    return "\n".join(lines)


def _pdf(part: dict[str, Any] | None) -> str:
    if not part or "extractors" not in part:
        return "_not run_"
    rows = {
        name: {
            "opened": f"{e['files_opened']} / {part['pdfs']}",
            "ms/page (median)": e["median_ms_per_page"],
            "ms/page (all)": e["ms_per_page_overall"],
            "chars/page": e["chars_per_page"],
            "pages without text": e["pages_without_text"],
            "vocab word rate": e["vocab_word_rate"],
        }
        for name, e in part["extractors"].items()
    }
    columns = [
        "opened",
        "ms/page (median)",
        "ms/page (all)",
        "chars/page",
        "pages without text",
        "vocab word rate",
    ]
    tables = part["tables"]
    return (
        f"{part['pdfs']} PDFs.\n\n"
        + markdown_table(rows, columns, "extractor")
        + f"\n\nTables (pdfplumber): {tables['tables']} tables, {tables['table_rows']} rows on "
        f"{tables['tabular_pages']} tabular pages of {tables['pages_scanned']}, "
        f"{tables['s_per_tabular_page']} s per tabular page."
    )


def _llm(part: dict[str, Any] | None) -> str:
    if not part or "speeds" not in part:
        return "_not run_"
    columns = [
        "ceiling_prefill_tok_s",
        "prefill_tok_s",
        "prefill_of_ceiling",
        "ceiling_generation_tok_s",
        "generation_tok_s",
        "first_token_s",
    ]
    prefix = part.get("prefix", {})
    reuse = ", ".join(
        f"{name.replace('_', ' ')}: {r['cached_tokens']} of {r['prompt_tokens']} cached, first "
        f"token {r['first_token_s']} s"
        for name, r in prefix.items()
    )
    return (
        f"`{part['model']}`, {part['n_threads']} threads, n_batch {part['n_batch']}; kernels: "
        f"{' '.join(part['kernels'])}.\n\n"
        + markdown_table(part["speeds"], columns, "prompt tokens")
        + (f"\n\nAnswer-prompt prefix reuse: {reuse}." if reuse else "")
    )


def _embed(part: dict[str, Any] | None) -> str:
    if not part or "torch" not in part:
        return "_not run_"
    rows = {name: part[name] for name in ("torch", "onnx_int8")}
    cosine = part["cosine_torch_vs_onnx"]
    return (
        f"{part['docs']} SciFact documents, {part['threads']} threads, batch {part['batch']}.\n\n"
        + markdown_table(rows, ["docs_per_s", "batch_ms_median", "ndcg_at_10"], "bi-encoder")
        + f"\n\nint8 ÷ torch throughput {part['onnx_speedup']}; cosine between the two "
        f"vectors of a document: median {cosine['median']}, lowest {cosine['min']}."
    )


def _stream(part: dict[str, Any] | None) -> str:
    if not part or "first_word_to_page" not in part:
        return "_not run_"
    shown = part["first_word_to_page"]
    return (
        f"{part['questions']} questions on fresh pages: the first word showed "
        f"{shown['p50_ms']:.0f} ms (p50), {shown['p95_ms']:.0f} ms (p95), {part['max_ms']:.0f} ms "
        "(max) after it left the LLM."
    )


def _ui_load(part: dict[str, Any] | None) -> str:
    if not part or "total" not in part:
        return "_not run_"
    rows = {name: part[name] for name in ("wait_to_first_output", "first_word", "total")}
    return (
        f"{part['users']} signed-in users asking at once ({part['llm_model']}, answers of at "
        f"most {part['llm_max_tokens']} tokens; page concurrency limit "
        f"{part['ui_concurrency_limit']}, queue size {part['ui_queue_size']}).\n\n"
        + markdown_table(rows, ["p50_ms", "p95_ms", "n"], "from submitting")
        + f"\n\nHighest queue position seen {part['max_queue_position']} (0 = next), by "
        f"{part['users_who_saw_a_position']} users; errors {part['errors']}; all answered in "
        f"{part['all_answered_s']} s; connections beyond loopback: "
        f"{len(part['non_loopback_connections'])}."
    )


PART_SECTIONS: list[tuple[str, Callable[[dict[str, Any] | None], str], str]] = [
    ("Query stages", _query, "query"),
    ("Profile of retrieval + rerank", _profile, "profile"),
    ("Profile of ingest (FastAPI docs)", _profile, "profile-ingest"),
    ("Dense search at scale", _scale, "scale"),
    ("Start-up", _startup, "startup"),
    ("PDF text and tables", _pdf, "pdf"),
    ("LLM alone", _llm, "llm"),
    ("Bi-encoder: PyTorch against int8 ONNX", _embed, "embed"),
    ("Streaming to the chat page", _stream, "stream"),
    ("Many users on the chat page", _ui_load, "ui-load"),
]


def markdown_summary(result: dict[str, Any]) -> str:
    parts = result.get("parts", {})
    failed = [
        f"- **{name}** failed: `{p['error'].splitlines()[-1]}`"
        for name, p in parts.items()
        if "error" in p
    ]
    walls = ", ".join(f"{name} {p.get('wall_s')} s" for name, p in parts.items())
    sections = [
        f"# Benchmarks {result.get('date', '')} at `{result.get('git_commit')}`",
        f"{result.get('machine', '')}, {result.get('cpu', 'CPU not recorded')}"
        f"{' (quick run: small sizes)' if result.get('quick') else ''}."
        f" Wall time per part: {walls}.",
        *failed,
        "## Goals",
        _goals(parts),
        "## Ingest",
        _ingest(parts),
        *(
            text
            for title, render, part in PART_SECTIONS
            for text in (f"## {title}", render(parts.get(part)))
        ),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"
