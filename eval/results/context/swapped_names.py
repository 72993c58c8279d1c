"""How the swapped-names signal (`rag_app/chain/support.py`) splits the hand-labelled answer
sentences of `eval/data/support-labels.jsonl`: how many supported and unsupported sentences it
flags, each flagged one listed with the names it found lacking and the passage sentence it
compared with.

    python eval/results/context/swapped_names.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rag_app.chain.support import CitedPassages, swapped_names
from rag_app.config import get_settings
from rag_app.models.embeddings import get_embedder
from rag_app.types import Passage

LABELS = Path(__file__).parents[2] / "data" / "support-labels.jsonl"


def main() -> None:
    encoder = get_embedder(get_settings().embedding_model)
    flagged = {True: 0, False: 0}
    total = {True: 0, False: 0}
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        passages = [Passage(n=p["n"], text=p["text"], source="") for p in row["passages"]]
        given = CitedPassages(passages, encoder)
        cited = [p.n for p in passages]
        similarity = (
            np.vstack([given.sentence_vectors(n) for n in cited])
            @ (encoder.encode_passages([row["sentence"]])[0])
        )
        closest = given.around(cited, int(np.argmax(similarity)))
        names = swapped_names(row["sentence"], closest, row["question"])
        total[row["supported"]] += 1
        if names:
            flagged[row["supported"]] += 1
            label = "supported" if row["supported"] else "unsupported"
            print(f"{label}: {row['sentence']!r} lacks {names}; closest: {closest[0]!r}")
    print(
        f"flagged {flagged[False]} of {total[False]} unsupported sentences, "
        f"{flagged[True]} of {total[True]} supported"
    )


if __name__ == "__main__":
    main()
