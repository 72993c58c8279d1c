"""Cited-claim support of an `eval answers` run, by hand labels instead of the local judge.

Every cited sentence of an answered question is looked up in `eval/data/support-labels.jsonl`
by its id (a hash of the sentence and the text of the passages it cites, as the labels were
made); sentences nobody labelled are counted and left out. Prints the share of labelled cited
sentences that are supported, per answer (the judge's `citation_support` averages the same way)
and over all sentences, and how right the check's verdicts were on them. When the run holds
`faithfulness.jsonl` (`faithfulness.py`), it also prints the local judge's mean faithfulness
over the answers the hand labels find backed in every sentence and over the rest: a judge
whose scores mean something rates the first group higher.

    python eval/results/trust/human_support.py eval/results/trust/aragog
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
from pathlib import Path
from typing import Any

from eval.answers import latest_records, read_lines
from rag_app.chain.support import cited_numbers, split_sentences, without_markers

LABELS = Path(__file__).parents[2] / "data" / "support-labels.jsonl"


def sentence_id(sentence: str, passages: list[str]) -> str:
    return hashlib.sha1("\n".join([sentence, *passages]).encode()).hexdigest()[:10]


def checked_sentences(
    record: dict[str, Any], texts: dict[int, str]
) -> list[tuple[str, list[int], str]]:
    """(sentence, valid citations, verdict) per cited sentence; a run from before the support
    check stored no verdicts, and its sentences are split here as the check splits them."""
    if record.get("sentences") is not None:
        checks = record["sentences"]
        return [(c["text"], c["citations"], c["verdict"]) for c in checks if c["citations"]]
    split = [
        (without_markers(s), [n for n in cited_numbers(s) if n in texts])
        for s in split_sentences(record["answer"])
    ]
    return [(text, cited, "supported") for text, cited in split if cited]


def read_faithfulness(path: Path) -> dict[str, float]:
    """The judge's score per answer id; a NaN (the judge's output unparseable) is left out."""
    if not path.exists():
        return {}
    rows = read_lines(path)[0]  # a torn last line (a scoring run killed) is left out
    return {row["id"]: row["faithfulness"] for row in rows if not math.isnan(row["faithfulness"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="an `eval answers --out` folder")
    args = parser.parse_args()
    labels = {
        row["id"]: row["supported"]
        for row in map(json.loads, LABELS.read_text(encoding="utf-8").splitlines())
    }
    per_answer, sentences, unlabelled = [], [], 0
    judged_faithfulness = read_faithfulness(args.run / "faithfulness.jsonl")
    by_label: dict[bool, list[float]] = {True: [], False: []}
    for record in latest_records(args.run / "answers.jsonl").values():
        if record["abstained"] or not record["answerable"]:
            continue
        texts = {c["n"]: c["text"] for c in record["contexts"]}
        judged = []
        for text, cited, verdict in checked_sentences(record, texts):
            key = sentence_id(text, [texts[n] for n in cited])
            if key not in labels:
                unlabelled += 1
                continue
            judged.append(labels[key])
            sentences.append((labels[key], verdict == "supported"))
        if judged:
            per_answer.append(sum(judged) / len(judged))
            if record["id"] in judged_faithfulness:
                by_label[all(judged)].append(judged_faithfulness[record["id"]])
    shown = [label for label, called in sentences if called]
    flagged = [label for label, called in sentences if not called]
    print(
        json.dumps(
            {
                "answers": len(per_answer),
                "cited_claim_support_per_answer": round(sum(per_answer) / len(per_answer), 4),
                "sentences": len(sentences),
                "supported_sentences": sum(label for label, _ in sentences),
                "called_supported": len(shown),
                "called_supported_and_are": sum(shown),
                "flagged_and_are_not": sum(not label for label in flagged),
                "flagged": len(flagged),
                "unlabelled": unlabelled,
                **{
                    f"judge_faithfulness_{name}": {
                        "answers": len(scores),
                        "mean": round(sum(scores) / len(scores), 4) if scores else None,
                        "zero": sum(score == 0 for score in scores),
                    }
                    for name, scores in (
                        ("all_backed", by_label[True]),
                        ("not_all_backed", by_label[False]),
                    )
                    if judged_faithfulness
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
