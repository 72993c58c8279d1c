"""How well `ingest.references` finds reference lists: scored against labels.json on ARAGOG's
papers, and listed chunk by chunk (what was taken) on any other folder of PDFs.

    python eval/results/references/measure.py ../shared/data/aragog/papers [FOLDER ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ingest.chunking import ChunkSizes, chunk_document
from ingest.loaders import ParseOptions, parse, read_file
from ingest.references import reference_flags
from rag_app.config import get_settings
from rag_app.models.embeddings import get_embedder

LABELS = json.loads((Path(__file__).parent / "labels.json").read_text())


def main(folders: list[str]) -> None:
    settings = get_settings()
    tokenize = get_embedder(settings.embedding_model).tokenize
    sizes = ChunkSizes(
        settings.child_chunk_tokens, settings.child_overlap_tokens, settings.parent_chunk_tokens
    )
    tp = fp = fn = tn = 0
    for folder in folders:
        for path in sorted(Path(folder).rglob("*.pdf")):
            doc = parse(read_file(path, 10**9), ParseOptions(pdf_tables=False))
            _, children = chunk_document(doc, sizes, tokenize)
            flags = reference_flags([c.text for c in children])
            label = LABELS.get(path.name)
            taken = [i for i, flag in enumerate(flags) if flag]
            print(f"{path.name}: {len(children)} chunks, {len(taken)} taken")
            if label is None:
                for i in taken:
                    print(f"  taken {i}: {' '.join(children[i].text.split())[:90]}")
                continue
            for i, flag in enumerate(flags):
                if i in label["mixed"]:
                    continue
                truth = label["first"] <= i <= label["last"]
                tp, fp = tp + (flag and truth), fp + (flag and not truth)
                fn, tn = fn + (truth and not flag), tn + (not truth and not flag)
                if flag != truth:
                    kind = "taken, not a reference" if flag else "missed"
                    print(f"  {kind} {i}: {' '.join(children[i].text.split())[:90]}")
    if tp + fp + fn:
        print(f"labelled: {tp} of {tp + fn} reference chunks taken, {fp} of {fp + tn} others taken")


if __name__ == "__main__":
    main(sys.argv[1:])
