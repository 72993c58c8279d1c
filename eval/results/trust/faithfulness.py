"""RAGAS faithfulness of an `eval answers` run's answered questions, scored after the fact.

The run itself was judged for cited-claim support only (`--judge-metrics citations`): RAGAS's
judged metrics cost minutes per answer on 2 cores. This scores faithfulness alone, with the
same local judge, one answer at a time, appending each score to `faithfulness.jsonl` in the
run's folder: killed, it resumes with the answers not yet scored.

    RAG_HOME=/work/rag-eval python eval/results/trust/faithfulness.py eval/results/trust/aragog
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from eval.answers import Record, Scorer, appended_lines, judge_settings, latest_records
from eval.questions import Question
from rag_app.config import Settings
from rag_app.models.embeddings import get_embedder
from rag_app.models.llm import make_chat_model


class FaithfulnessOnly(Scorer):
    def _metrics(self, with_reference: bool) -> dict[str, Any]:
        from ragas.metrics import Faithfulness

        return {"faithfulness": Faithfulness()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="an `eval answers --out` folder")
    args = parser.parse_args()
    settings = Settings(judge_backend="llamacpp")
    judge = judge_settings(settings)
    assert judge is not None  # judge_backend is set just above
    scorer = FaithfulnessOnly(
        make_chat_model(judge), get_embedder(settings.embedding_model), settings.judge_timeout_s
    )
    out = args.run / "faithfulness.jsonl"
    done = {row["id"] for row in appended_lines(out)}
    for data in latest_records(args.run / "answers.jsonl").values():
        if data["id"] in done or data["abstained"] or not data["answerable"]:
            continue
        question = Question(data["id"], data["question"], data.get("reference"))
        scores = scorer.ragas(Record(question, data))
        with out.open("a", encoding="utf-8") as lines:
            lines.write(json.dumps({"id": data["id"], **scores}) + "\n")
    rows = appended_lines(out)
    measured = [row["faithfulness"] for row in rows if not math.isnan(row["faithfulness"])]
    mean = sum(measured) / len(measured) if measured else math.nan
    print(json.dumps({"answers": len(rows), "measured": len(measured), "faithfulness": mean}))


if __name__ == "__main__":
    main()
