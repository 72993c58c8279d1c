"""Which replies the stored runs showed the passing-mention check (`retrieval/coverage.py`
`passing_mentions`, applied by the chain to a reply with an unbacked sentence) would withhold.

Each stored answer record keeps the question, the passages read and the reply's sentence checks
with the passages they cite; the collection named in the run's `run.json` gives the cited
documents' children and the word counts. No model is needed. Records of one question and reply
seen in several runs count once. Needs the collections the runs were made on.

    RAG_HOME=/tmp/raghome python eval/results/passing/replay.py > eval/results/passing/replay.txt
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from eval.answers import latest_records
from rag_app.chain.rag import BACKED
from rag_app.config import get_settings
from rag_app.retrieval.coverage import passing_mentions, term_frequency
from rag_app.store import CollectionStore

HERE = Path(__file__).resolve().parent
SHARES = (0.05, 0.1, 0.15, 0.2)


def has_unbacked(record: dict[str, Any]) -> bool:
    """Whether a shown reply has a sentence not backed by what it cites: the only kind the
    chain asks the passing check of."""
    return any(s["verdict"] not in BACKED for s in record.get("sentences") or [])


def report(label: str, tally: Counter[tuple[float, bool, bool]]) -> None:
    for share in SHARES:
        shares = {
            kind: (tally[share, answerable, True], tally[share, answerable, False])
            for kind, answerable in (("answerable", True), ("unanswerable", False))
        }
        print(
            f"{label}, min_subject_share {share}: "
            + ", ".join(f"{k} withheld {w} of {w + kept}" for k, (w, kept) in shares.items())
        )


def main() -> None:
    stores: dict[str, CollectionStore] = {}
    seen: set[tuple[str, str]] = set()
    # share, answerable, withheld: the replies the chain asks (an unbacked sentence), and
    # every shown reply, as if the check were asked of all (how far the rule reaches)
    asked: Counter[tuple[float, bool, bool]] = Counter()
    every: Counter[tuple[float, bool, bool]] = Counter()
    for path in sorted(Path("eval/results").rglob("answers.jsonl")):
        run = path.parent / "run.json"
        if not run.is_file() or HERE in path.resolve().parents:
            continue  # runs made with the check on never showed what it withholds
        collection = json.loads(run.read_text()).get("collection")
        if collection not in ("eval-papers", "eval-docs"):
            continue
        if collection not in stores:
            stores[collection] = CollectionStore(get_settings().updated(collection=collection))
        store = stores[collection]
        frequency = term_frequency(store.bm25())

        def children(source: str, store: CollectionStore = store) -> list[str]:
            return [chunk.text for chunk in store.state.document_children(source)]

        for record in latest_records(path).values():
            shown = not record.get("abstained") and not record.get("quoted")
            if (record["question"], record["answer"]) in seen or not shown:
                continue
            seen.add((record["question"], record["answer"]))
            cited = {n for s in record.get("sentences") or [] for n in s["citations"]} or set(
                record["citations"]
            )
            read = [c for c in record["contexts"] if c["n"] in cited]
            sources = sorted({c["source"] for c in read})
            names = [f"{c['heading']} {c['source']}" for c in read]
            answerable = record.get("answerable", True)
            for share in SHARES:
                passing = passing_mentions(
                    record["question"], sources, children, names, frequency, share
                )
                every[share, answerable, bool(passing)] += 1
                if not has_unbacked(record):
                    continue
                asked[share, answerable, bool(passing)] += 1
                if passing and share == 0.1:
                    kind = "answerable" if answerable else "UNANSWERABLE"
                    print(f"  withheld at 0.1, {kind}: {record['question'][:80]} {passing}")
    report("replies with an unbacked sentence", asked)
    report("every shown reply", every)
    print(f"({len(seen)} distinct shown replies)")


if __name__ == "__main__":
    main()
