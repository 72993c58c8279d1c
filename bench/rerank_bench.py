"""Cost of the rerank stage at depth 50: a MiniLM-sized CrossEncoder over real candidates.

    python -m bench.rerank_bench

No trained cross-encoder exists yet, so this times the architecture the project will train (the
bundled MiniLM with a fresh classification head): the cost per query does not depend on the
head's weights. Candidates are the hybrid top-50 for ARAGOG questions from bench/.home.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from rag_app.config import Settings
from rag_app.models.resolve import resolve_embedder
from rag_app.retrieval.hybrid import HybridRetriever
from rag_app.retrieval.rerank import CrossEncoderReranker, rerank_depth
from rag_app.store import CollectionStore

HERE = Path(__file__).parent
DATA = HERE.parent.parent / "shared" / "data" / "aragog"


def main(queries: int = 10) -> None:
    from sentence_transformers import CrossEncoder

    settings = Settings(home=HERE / ".home")
    depth = rerank_depth(settings, None)
    store = CollectionStore(settings)
    retriever = HybridRetriever.from_store(store)
    questions = json.loads((DATA / "benchmark.json").read_text())["questions"][:queries]
    with tempfile.TemporaryDirectory() as folder:
        base = resolve_embedder(settings.embedding_model).path
        CrossEncoder(str(base), num_labels=1, max_length=settings.rerank_max_length).save(folder)
        reranker = CrossEncoderReranker(
            folder, settings.rerank_max_length, settings.rerank_batch_size
        )
        reranker.warm_up()
        retrieve_s, rerank_s = [], []
        for question in questions:
            started = time.perf_counter()
            candidates = retriever.retrieve(question, depth)
            retrieve_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            reranker.rerank(question, candidates, settings.top_k)
            rerank_s.append(time.perf_counter() - started)
    result = {
        "depth": depth,
        "max_length": settings.rerank_max_length,
        "queries": len(questions),
        "retrieve_median_s": round(statistics.median(retrieve_s), 3),
        "rerank_median_s": round(statistics.median(rerank_s), 3),
        "rerank_pairs_per_s": round(depth / statistics.median(rerank_s), 1),
    }
    print(json.dumps(result, indent=2))
    store.close()


if __name__ == "__main__":
    main()
