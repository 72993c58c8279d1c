"""How much of each reference answer the LLM gets to read, by context layout (no LLM needed).

For ARAGOG's sampled answerable questions (the ids of an answers.jsonl run), retrieval runs as
configured and the first top_k hits become passages under several (budget, per-passage limit)
pairs; each layout is scored by the share of the reference answer's content words found in the
passages, and by how many questions get half or more of them. A proxy for "the answer is in
front of the model", not for answer quality.

    RAG_HOME=... RAG_COLLECTION=eval-papers python eval/results/context/measure.py \
        eval/results/references/aragog/answers.jsonl
"""

from __future__ import annotations

import json
import statistics
import sys
from typing import Any

from rag_app.chain.rag import Components
from rag_app.config import get_settings
from rag_app.retrieval.context import build_passages
from rag_app.text import content_words

LAYOUTS = [(256, None), (512, None), (384, 192), (512, 256), (512, 192), (768, 256)]


def recall(reference: str, texts: list[str]) -> float:
    wanted = content_words(reference)
    held = set().union(*(content_words(t) for t in texts)) if texts else set()
    return len(wanted & held) / len(wanted) if wanted else 1.0


def main(answers: str) -> None:
    rows: dict[str, dict[str, Any]] = {}
    with open(answers, encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            rows.setdefault(record["id"], record)
    settings = get_settings()
    parts = Components(settings)
    scores: dict[tuple[int, int | None], list[float]] = {layout: [] for layout in LAYOUTS}
    counts: dict[tuple[int, int | None], list[int]] = {layout: [] for layout in LAYOUTS}
    for row in rows.values():
        if not row["answerable"]:
            continue
        hits = parts.pipeline.run(row["question"]).hits[: settings.top_k]
        for budget, limit in LAYOUTS:
            passages = build_passages(
                hits,
                parents=parts.parents,
                budget_tokens=budget,
                count_tokens=parts.count_tokens,
                passage_tokens=limit,
            )
            scores[(budget, limit)].append(recall(row["reference"], [p.text for p in passages]))
            counts[(budget, limit)].append(len(passages))
    print("budget/limit  mean reference words read  questions with >= half  passages (median)")
    for (budget, limit), values in scores.items():
        half = sum(v >= 0.5 for v in values)
        median = statistics.median(counts[(budget, limit)])
        print(
            f"{budget}/{limit or '-':<10} {statistics.mean(values):.3f}"
            f"{half:>28} of {len(values)}{median:>12}"
        )


if __name__ == "__main__":
    main(sys.argv[1])
