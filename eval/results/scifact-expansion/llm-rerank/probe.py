"""A probe, not a feature: can the answering LLM rerank without labels?

The 1.5B model's probability of "yes" to prompt.md, for each of hybrid-alpha's top DEPTH
documents of the first N SciFact test claims (each document as its best chunk, cut at 1,500
characters). Appends one line per claim to OUT, so it resumes; score.py turns it into nDCG@10.

    RAG_HOME=/work/rag-sf python probe.py 30 10 scores.jsonl
    RAG_HOME=/work/rag-sf python score.py scores.jsonl
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate

from eval.retrieval import BeirCollection
from rag_app.beir import load_beir
from rag_app.chain.prompts import fence
from rag_app.config import Fusion, get_settings
from rag_app.models.llm import make_chat_model

DATASET = Path("../shared/data/scifact")


def main(count: int, depth: int, out: Path) -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("human", Path(__file__).with_name("prompt.md").read_text())]
    )
    settings = get_settings()
    data = load_beir(DATASET, "test")
    collection = BeirCollection(data, settings, "beir-scifact")
    collection.prepare()
    n = collection.chunks_for(100)
    pipeline = collection.pipeline(Fusion.ALPHA, n, None)
    llm = make_chat_model(settings)
    done = (
        {json.loads(line)["id"] for line in out.read_text().splitlines()} if out.exists() else set()
    )
    with out.open("a") as lines:
        for qid in [q for q in data.queries if q in collection.qrels][:count]:
            if qid in done:
                continue
            claim = data.queries[qid]
            hits = pipeline.run(claim, keep=n).hits
            best: dict[str, str] = {}
            for hit in hits:
                best.setdefault(collection.docs_of(hit.chunk.id)[0], hit.chunk.search_text())
            docs = collection.rank_documents([h.chunk.id for h in hits])
            started = time.perf_counter()
            p_yes = [
                llm.choice_probabilities(  # type: ignore[attr-defined]
                    prompt.format_messages(query=fence(claim), passage=fence(best[d][:1500])),
                    ["yes", "no"],
                )[0]
                for d in docs[:depth]
            ]
            seconds = time.perf_counter() - started
            record = {"id": qid, "docs": docs[:100], "p": p_yes, "seconds": seconds}
            lines.write(json.dumps(record) + "\n")
            lines.flush()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
