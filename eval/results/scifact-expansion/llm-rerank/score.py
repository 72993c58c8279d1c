"""nDCG@10 of probe.py's claims: the fused order, P(yes) alone ("replace"), and P(yes) blended
with the fused positions (`rank_blend`, weights 0.25-0.75), each with its paired bootstrap
95 % interval against the fused order."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from eval.retrieval import BeirCollection
from rag_app.beir import load_beir
from rag_app.config import get_settings
from rag_app.retrieval.fusion import rank_blend
from rag_app.retrieval.metrics import paired_bootstrap_interval, per_query


def reorder(record: dict[str, Any], weight: float | None) -> list[str]:
    depth = len(record["p"])
    head = record["docs"][:depth]
    if weight is None:
        top = [d for _, d in sorted(zip(record["p"], head, strict=True), key=lambda x: -x[0])]
    else:
        top = [d for d, _ in rank_blend(head, record["p"], weight)]
    return top + record["docs"][depth:]


def main(path: Path) -> None:
    data = load_beir(Path("../shared/data/scifact"), "test")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    all_qrels = BeirCollection(data, get_settings(), "beir-scifact").qrels
    qrels = {r["id"]: all_qrels[r["id"]] for r in records}
    base = per_query({r["id"]: r["docs"] for r in records}, qrels, "ndcg@10")
    print("claims", len(records), "fused", round(sum(base.values()) / len(base), 4))
    for weight in (None, 0.25, 0.5, 0.75):
        new = per_query({r["id"]: reorder(r, weight) for r in records}, qrels, "ndcg@10")
        low, high = paired_bootstrap_interval([new[q] for q in base], [base[q] for q in base])
        mean = sum(new.values()) / len(new)
        print(weight or "replace", f"{mean:.4f} gain [{low:+.4f}, {high:+.4f}]")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
