"""Answers on ARAGOG: citation rate, abstention on unanswerable questions, stage latency.

    python -m bench.answer_bench --answerable 30 [--seed 0]

The papers are ingested into bench/.home (kept, so reruns skip ingest). ARAGOG lacks the
GLM-130B paper, so its GLM questions have no answer in the documents: the honest reply is to
abstain. Answerable questions are sampled with a fixed seed; every GLM question is asked.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import time
from datetime import date
from pathlib import Path
from typing import Any

from ingest.pipeline import Ingestor
from rag_app.chain.rag import build_chain
from rag_app.config import Settings

HERE = Path(__file__).parent
DATA = HERE.parent.parent / "shared" / "data" / "aragog"


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def run(answerable: int, seed: int, settings: Settings) -> dict[str, Any]:
    bench = json.loads((DATA / "benchmark.json").read_text())
    pairs = list(zip(bench["questions"], bench["ground_truths"], strict=True))
    glm = [p for p in pairs if "GLM" in p[0]]
    others = [p for p in pairs if "GLM" not in p[0]]
    sample = random.Random(seed).sample(others, min(answerable, len(others)))
    ingestor = Ingestor(settings)
    report = ingestor.run([DATA / "papers"])
    ingestor.store.close()
    chain = build_chain(settings)
    rows = []
    for question, reference in [*sample, *glm]:
        started = time.perf_counter()
        answer = chain.invoke({"question": question})
        rows.append(
            {
                "question": question,
                "reference": reference,
                "glm": "GLM" in question,
                "answer": answer.text,
                "abstained": answer.abstained,
                "citations": [c.citation_json() | {"text": c.text[:200]} for c in answer.citations],
                "timings": {**answer.timings, "total": time.perf_counter() - started},
            }
        )
        print(json.dumps({k: rows[-1][k] for k in ("question", "abstained", "timings")}))
    answer_rows = [r for r in rows if not r["glm"]]
    glm_rows = [r for r in rows if r["glm"]]
    stages = ("retrieve", "rerank", "first_token", "llm", "total")
    return {
        "ingest": report.summary(),
        "answerable_asked": len(answer_rows),
        "answered_with_valid_citation": sum(bool(r["citations"]) for r in answer_rows),
        "share_with_citation": round(
            sum(bool(r["citations"]) for r in answer_rows) / len(answer_rows), 3
        ),
        "abstained_on_answerable": sum(r["abstained"] for r in answer_rows),
        "glm_asked": len(glm_rows),
        "glm_abstained": sum(r["abstained"] for r in glm_rows),
        "median_seconds": {
            stage: _median([r["timings"][stage] for r in rows if stage in r["timings"]])
            for stage in stages
        },
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answerable", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings = Settings(home=HERE / ".home")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    result = {
        "date": date.today().isoformat(),
        "commit": commit,
        "llm": settings.llm_model,
        "embedding": settings.embedding_model,
        "reranker": settings.reranker_model,
        **run(args.answerable, args.seed, settings),
    }
    out = HERE / "results" / f"{result['date']}-{commit}-answers-aragog.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=2))


if __name__ == "__main__":
    main()
