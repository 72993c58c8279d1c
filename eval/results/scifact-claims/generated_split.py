"""Write a BEIR folder whose `qrels/generated.tsv` split is a generated question set, beside
SciFact's own files (linked, not copied), so `rag eval retrieval --tune-split generated` tunes
BM25 and fusion on generated questions only: zero-label tuning measured with the same harness.

    python generated_split.py DATASET QUESTIONS.jsonl OUT_DIR [MAX_RANK]

MAX_RANK keeps only questions whose round trip found their source at that rank or better.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rag_app.beir import doc_id_of


def main(dataset: Path, questions: Path, out: Path, max_rank: int | None) -> None:
    folder = out / dataset.name
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    for name in ("corpus.jsonl", "qrels/test.tsv", "qrels/train.tsv"):
        link = folder / name
        link.unlink(missing_ok=True)
        link.symlink_to((dataset / name).resolve())
    rows = [json.loads(line) for line in questions.read_text().splitlines() if line.strip()]
    if max_rank is not None:
        rows = [r for r in rows if r.get("rank") is None or r["rank"] <= max_rank]
    queries = (dataset / "queries.jsonl").read_text().rstrip("\n").splitlines()
    qrels = ["query-id\tcorpus-id\tscore"]
    for row in rows:
        qid = f"generated-{row['id']}"
        queries.append(json.dumps({"_id": qid, "text": row["question"], "metadata": {}}))
        qrels += [f"{qid}\t{doc_id_of(s)}\t1" for s in row["sources"]]
    (folder / "queries.jsonl").write_text("\n".join(queries) + "\n")
    (folder / "qrels" / "generated.tsv").write_text("\n".join(qrels) + "\n")
    print(f"{len(rows)} generated questions as split 'generated' in {folder}")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(Path(args[0]), Path(args[1]), Path(args[2]), int(args[3]) if len(args) > 3 else None)
