"""How often the passing-mention check would find a question's subject only mentioned in
passing by the very document the question was written from: the check's reach on questions
the documents do answer, were it asked of every reply and not only of replies with an
unbacked sentence (the chain's rule).

Two question sets over the ARAGOG papers, each question with the paper it came from: ARAGOG's
own questions (`eval/data/aragog-papers.jsonl`) and the ones `rag questions generate` wrote
from single chunks (`eval/results/questions/aragog/generated.jsonl`). Needs the eval-papers
collection (RAG_HOME=/tmp/raghome on the machine the runs were made on).

    python eval/results/passing/by_source.py > eval/results/passing/by_source.txt
"""

from __future__ import annotations

import json
from pathlib import Path

from rag_app.config import get_settings
from rag_app.retrieval.coverage import passing_mentions, term_frequency
from rag_app.store import CollectionStore
from rag_app.types import Chunk

SETS = ("eval/data/aragog-papers.jsonl", "eval/results/questions/aragog/generated.jsonl")
SHARE = get_settings().min_subject_share


def main() -> None:
    store = CollectionStore(get_settings().updated(collection="eval-papers"))
    frequency = term_frequency(store.bm25())
    papers: dict[str, list[Chunk]] = {}  # by file name, as the question sets give them
    for chunk in store.state.children():
        papers.setdefault(Path(chunk.source).name, []).append(chunk)

    def children(name: str) -> list[str]:
        return [chunk.text for chunk in papers[name]]

    for path in SETS:
        lines = Path(path).read_text().splitlines()
        passing = 0
        for line in lines:
            record = json.loads(line)
            sources = [Path(s).name for s in record["sources"]]
            names = [f"{papers[s][0].title} {papers[s][0].source}" for s in sources]
            found = passing_mentions(record["question"], sources, children, names, frequency, SHARE)
            if found:
                passing += 1
                print(f"  {record['question'][:90]} {found}")
        print(f"{path}: subject only in passing at {SHARE}: {passing} of {len(lines)}")


if __name__ == "__main__":
    main()
