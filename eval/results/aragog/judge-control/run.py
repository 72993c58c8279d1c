"""Does the local judge tell supported from unsupported? A control for the ARAGOG run.

For the first N scored answerable questions of ../answers/answers.jsonl, the same question,
answer and reference are judged again against the retrieved passages of a question about a
different paper. A judge that discriminates should give much lower faithfulness and context
recall there than on the real passages. Run from the repository root:

    RAG_HOME=.rag-eval python eval/results/aragog/judge-control/run.py [N]
"""

import json
import sys
import time
from pathlib import Path

from eval.answers import Record, Scorer, _mean, judge_settings
from eval.questions import Question
from rag_app.config import Settings
from rag_app.models.embeddings import get_embedder
from rag_app.models.llm import make_chat_model

HERE = Path(__file__).parent
METRICS = ("faithfulness", "context_recall")


class ControlScorer(Scorer):
    def _metrics(self, with_reference: bool) -> dict:
        return {k: v for k, v in super()._metrics(with_reference).items() if k in METRICS}


def papers(data: dict) -> set[str]:
    return {Path(c["source"]).name for c in data["contexts"]}


def main(n: int) -> None:
    latest: dict[str, dict] = {}
    for line in (HERE.parent / "answers" / "answers.jsonl").read_text().splitlines():
        data = json.loads(line)
        latest[data["id"]] = data
    scored = [d for d in latest.values() if d["answerable"] and not d["abstained"] and d["scores"]][
        :n
    ]
    settings = Settings()
    judge = judge_settings(settings)
    if judge is None:
        raise SystemExit("the control needs a judge: set RAG_JUDGE_BACKEND")
    scorer = ControlScorer(
        make_chat_model(judge),
        get_embedder(settings.embedding_model, settings.embedding_batch_size),
        settings.judge_timeout_s,
    )
    rows = []
    started = time.perf_counter()
    for data in scored:
        other = next(d for d in latest.values() if d["contexts"] and not papers(d) & papers(data))
        question = Question(data["id"], data["question"], data["reference"])
        swapped = {**data, "contexts": other["contexts"]}
        control = scorer.ragas(Record(question, swapped))
        rows.append(
            {
                "id": data["id"],
                "control_contexts_from": other["id"],
                "real": {m: data["scores"][m] for m in METRICS},
                "swapped": control,
            }
        )
        print(rows[-1], flush=True)

    summary = {
        m: {kind: _mean(r[kind][m] for r in rows)[0] for kind in ("real", "swapped")}
        for m in METRICS
    }
    out = {
        "questions": len(rows),
        "summary": summary,
        "rows": rows,
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    (HERE / "results.json").write_text(json.dumps(out, indent=2, allow_nan=True) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
