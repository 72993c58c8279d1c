"""How often the disagreement check fires on answers whose documents do not disagree: every
answer stored under eval/results/ (ARAGOG papers, the bundled docs), re-checked with the
passages it was given, at several similarity thresholds. Needs no LLM.

    python eval/results/conflicts/false_alarms.py \
      $(find eval/results -name answers.jsonl -not -path '*/conflicts/*')
"""

from __future__ import annotations

import json
import sys

from rag_app.chain.conflicts import conflicts
from rag_app.chain.support import CitedPassages, figures
from rag_app.config import get_settings
from rag_app.models.embeddings import get_embedder
from rag_app.types import Passage, SentenceCheck

THRESHOLDS = (0.6, 0.65, 0.7, 0.75, 0.8)


def main(paths: list[str]) -> None:
    encoder = get_embedder(get_settings().embedding_model)
    answers = exposed = 0
    fired = {t: 0 for t in THRESHOLDS}
    for path in paths:
        latest: dict[str, dict] = {}
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                latest[record["id"]] = record
        for record in latest.values():
            checks = [SentenceCheck.model_validate(s) for s in record.get("sentences") or []]
            if record["abstained"] or not checks:
                continue
            passages = [
                Passage(n=c["n"], text=c["text"], source=c["source"], page=c.get("page"))
                for c in record["contexts"]
            ]
            given = CitedPassages(passages, encoder)
            answers += 1
            asked = figures(record["question"])
            exposed += len({p.source for p in passages}) > 1 and any(
                figures(c.text) - asked for c in checks
            )
            for threshold in THRESHOLDS:
                found = conflicts(checks, given, record["question"], threshold)
                fired[threshold] += bool(found)
                if found and threshold == 0.7:
                    print(f"{path}: {record['question']}")
                    for c in found:
                        print(f"    answer: {checks[c.sentence].text}")
                        print(f"    other ({c.similarity}): {c.text}")
    print(f"{answers} answers from {len(paths)} runs; {exposed} give a figure the question does")
    print("  not and were given passages of more than one document (the ones that could fire)")
    for threshold, count in fired.items():
        print(f"  similarity >= {threshold}: a disagreement shown on {count}")


if __name__ == "__main__":
    main(sys.argv[1:])
