"""What `chain/quote.py` would quote for every reply the checks withheld in the stored runs.

Each stored answer record keeps the passages the model read and the withheld reply's
sentence checks (with the passages they cited), so the quote can be chosen again offline, with
the bi-encoder only: no LLM, so the responds check the chain then asks of the quote is not
applied here. The question is how often a quote exists at all for questions the documents
answer, and whether one exists for questions they do not (ARAGOG's GLM-130B questions, the
`answerable: false` records), where a quote would be an answer the documents do not hold.

    python eval/results/quote/replay.py > eval/results/quote/replay.txt
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eval.answers import latest_records
from rag_app.chain.quote import closest_quote, quote_text
from rag_app.chain.rag import WITHHELD_LEAK
from rag_app.chain.support import CitedPassages
from rag_app.config import get_settings
from rag_app.models.embeddings import get_embedder
from rag_app.protocols import TextEncoder
from rag_app.types import Passage, SentenceCheck

HERE = Path(__file__).resolve().parent


def passages(contexts: list[dict]) -> list[Passage]:
    """The stored passages; the record keeps the heading the model saw, which stands in for
    the title (its "(page N)" cut off)."""
    return [
        Passage(
            n=c["n"],
            text=c["text"],
            source=c["source"],
            title=c["heading"].rsplit(" (page ", 1)[0],
            page=c.get("page"),
        )
        for c in contexts
    ]


def replayed(
    encoder: TextEncoder,
) -> Iterator[tuple[Path, dict[str, Any], SentenceCheck | None]]:
    """(run folder, record, the quote it would get) for every reply a stored run withheld,
    but for one that repeated the assistant's rules (never replaced)."""
    for path in sorted(Path("eval/results").rglob("answers.jsonl")):
        if HERE in path.resolve().parents:
            continue  # runs made with quoting on have no withheld reply to replay
        for record in latest_records(path).values():
            withheld = record.get("withheld")
            if not withheld or withheld == WITHHELD_LEAK or not record.get("contexts"):
                continue
            given = CitedPassages(passages(record["contexts"]), encoder)
            cited = [n for check in record.get("sentences") or [] for n in check["citations"]]
            yield path.parent, record, closest_quote(record["question"], given, cited)


def main() -> None:
    encoder = get_embedder(get_settings().embedding_model)
    totals = {True: [0, 0], False: [0, 0]}  # answerable: [withheld, quote found]
    counts: dict[Path, dict[bool, list[int]]] = {}
    for run, record, quote in replayed(encoder):
        answerable = record.get("answerable", True)
        tally = counts.setdefault(run, {True: [0, 0], False: [0, 0]})[answerable]
        tally[0] += 1
        tally[1] += quote is not None
        if quote is not None and not answerable:
            print(f"  UNANSWERABLE {record['question'][:70]} -> {quote_text(quote)[:120]}")
    for run, count in counts.items():
        print(
            f"{run.relative_to('eval/results')}: answerable withheld "
            f"{count[True][0]}, quote found {count[True][1]}; unanswerable withheld "
            f"{count[False][0]}, quote found {count[False][1]}"
        )
        for key in totals:
            totals[key] = [a + b for a, b in zip(totals[key], count[key], strict=True)]
    print(
        f"all runs: answerable withheld {totals[True][0]}, quote found {totals[True][1]}; "
        f"unanswerable withheld {totals[False][0]}, quote found {totals[False][1]}"
    )


if __name__ == "__main__":
    main()
