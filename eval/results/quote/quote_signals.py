"""Which signal tells a quote that answers from one that does not: the responds check's
P(yes), the bi-encoder's question-quote cosine, or their mean?

Every distinct quote `chain/quote.py` would give for the replies withheld in the stored runs
(as in replay.py), scored by both signals, with `answers` labelled by hand: does the quoted
sentence give what the question asks for? `--label FILE` reads the labels from a previous
output, keyed by question and quote; without it every quote is written unlabelled (null).

    python eval/results/quote/quote_signals.py --label eval/results/quote/quote-signals.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from eval.results.quote.replay import replayed
from rag_app.chain.responds import ResponseJudge
from rag_app.config import get_settings
from rag_app.models.embeddings import get_embedder
from rag_app.models.llm import make_chat_model

HERE = Path(__file__).resolve().parent


def auc(positive: list[float], negative: list[float]) -> float:
    """ROC AUC, ties counted half."""
    pairs = [(p > n) + 0.5 * (p == n) for p in positive for n in negative]
    return sum(pairs) / len(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label", type=Path, help="a previous output holding the labels")
    args = parser.parse_args()
    labels = {}
    if args.label:
        for line in args.label.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            labels[(row["question"], row["quote"])] = row["answers"]
    settings = get_settings()
    encoder = get_embedder(settings.embedding_model)
    judge = ResponseJudge(make_chat_model(settings))
    rows: dict[tuple[str, str], dict] = {}
    for run, record, quote in replayed(encoder):
        key = (record["question"], quote.text if quote else "")
        if quote is None or key in rows:
            continue
        cosine = encoder.encode_query(key[0]) @ encoder.encode_passages([key[1]])[0]
        rows[key] = {
            "run": str(run),
            "answerable": record.get("answerable", True),
            "question": key[0],
            "quote": key[1],
            "reference": record.get("reference"),
            "p_yes": round(judge.score(*key) or 0.0, 3),
            "cosine": round(float(cosine), 3),
            "answers": labels.get(key),
        }
    for row in rows.values():
        print(json.dumps(row, ensure_ascii=False))
    labelled = [r for r in rows.values() if r["answers"] is not None]
    signals = {
        "P(yes)": lambda r: r["p_yes"],
        "cosine": lambda r: r["cosine"],
        "mean": lambda r: (r["p_yes"] + r["cosine"]) / 2,
    }
    for name, signal in signals.items():
        positive = [signal(r) for r in labelled if r["answers"]]
        negative = [signal(r) for r in labelled if not r["answers"]]
        if positive and negative:
            print(f"# {name}: AUC {auc(positive, negative):.3f}", file=sys.stderr)
    for threshold in (0.2, 0.3):
        kept = [r["answers"] for r in labelled if r["p_yes"] >= threshold]
        print(
            f"# P(yes) >= {threshold}: {sum(kept)} of {sum(r['answers'] for r in labelled)} "
            f"answering quotes kept, {len(kept) - sum(kept)} of "
            f"{sum(not r['answers'] for r in labelled)} others",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
