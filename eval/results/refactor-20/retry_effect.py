"""What the chat's keyword-only retry does to SciFact nDCG@10 with a cross-encoder: the same
`RetrievalPipeline` per query with and without its keyword retriever, paired over the 300 test
queries. Reads the tuning of an `rag eval retrieval` run over the same collection.

    python eval/results/refactor-20/retry_effect.py RAG_HOME RESULTS_JSON OUT_JSON
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from eval.retrieval import BeirCollection, Tuning
from rag_app.beir import load_beir
from rag_app.config import Fusion, Settings
from rag_app.retrieval.metrics import ndcg_at_k, paired_bootstrap_interval
from rag_app.retrieval.rerank import load_reranker
from rag_app.store.bm25 import BM25Index

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "scifact"


def main(home: Path, results: Path, out: Path) -> None:
    data = load_beir(DATA, "test")
    collection = BeirCollection(data, Settings(home=home), "beir-scifact")
    t = json.loads(results.read_text())["collections"]["beir-scifact"]["tuning"]
    tuning = Tuning(t["split"], t["queries"], t["rrf_k"], t["alpha"], t["bm25_k1"], t["bm25_b"])
    state = collection.store.state
    collection.keyword_index = BM25Index.build(
        state.children(), state.generation, t["bm25_k1"], t["bm25_b"]
    )
    reranker = load_reranker(collection.settings)
    n = collection.chunks_for(100)
    report = {}
    for mode in (Fusion.ALPHA, Fusion.RRF):
        with_retry = collection.pipeline(mode, n, tuning, reranker)
        without = dataclasses.replace(with_retry, keyword_retriever=None)
        scores: dict[str, list[float]] = {"with": [], "without": []}
        retried = 0
        for qid, query in data.queries.items():
            for name, pipeline in (("with", with_retry), ("without", without)):
                found = pipeline.run(query, keep=n)
                retried += found.retried
                docs = collection.rank_documents([h.chunk.id for h in found.hits])
                scores[name].append(ndcg_at_k(docs, data.qrels[qid], 10))
        a, b = scores["with"], scores["without"]
        low, high = paired_bootstrap_interval(a, b)
        report[mode] = {
            "with_retry": sum(a) / len(a),
            "no_retry": sum(b) / len(b),
            "retried": retried,
            "queries": len(a),
            "diff": (sum(a) - sum(b)) / len(a),
            "low": low,
            "high": high,
        }
        print(mode, report[mode], flush=True)
    collection.close()
    out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main(*(Path(arg) for arg in sys.argv[1:4]))
