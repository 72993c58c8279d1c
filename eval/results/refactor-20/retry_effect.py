"""Per-query nDCG@10 of hybrid-alpha+rerank on SciFact test, with and without the keyword retry,
through the same RetrievalPipeline; paired bootstrap of the difference."""
import json, sys
sys.path.insert(0, "/work/after20")
from pathlib import Path
from rag_app.config import Settings
from rag_app.beir import load_beir
from rag_app.retrieval.metrics import ndcg_at_k, paired_bootstrap_interval
from rag_app.retrieval.rerank import load_reranker
from eval.retrieval import BeirCollection, Tuning
D = Path("/work/shared/data/scifact")
settings = Settings(home=Path("/work/rag-scifact"))
data = load_beir(D, "test")
col = BeirCollection(data, settings, "beir-scifact")
report = json.load(open("/work/runs/out/scifact-after/results.json"))
t = report["collections"]["beir-scifact"]["tuning"]
tuning = Tuning(t["split"], t["queries"], t["rrf_k"], t["alpha"], t["bm25_k1"], t["bm25_b"], t["rerank_depth"])
from rag_app.store.bm25 import BM25Index
st = col.store.state
col.keyword_index = BM25Index.build(st.children(), st.generation, tuning.bm25_k1, tuning.bm25_b)
reranker = load_reranker(col.settings)
n = col.chunks_for(100)
out = {}
for mode in ("alpha", "rrf"):
    with_retry = col.pipeline(mode, n, tuning, reranker, None)
    no_retry = type(with_retry)(**{**with_retry.__dict__, "keyword_retriever": None})
    a, b, retried = [], [], 0
    for qid, q in data.queries.items():
        r1 = with_retry.run(q, keep=n); r0 = no_retry.run(q, keep=n)
        retried += r1.retried
        a.append(ndcg_at_k(col.rank_documents([h.chunk.id for h in r1.hits]), data.qrels[qid], 10))
        b.append(ndcg_at_k(col.rank_documents([h.chunk.id for h in r0.hits]), data.qrels[qid], 10))
    low, high = paired_bootstrap_interval(a, b)
    out[mode] = {"with_retry": sum(a)/len(a), "no_retry": sum(b)/len(b), "retried": retried, "queries": len(a), "diff": (sum(a)-sum(b))/len(a), "low": low, "high": high}
    print(mode, out[mode], flush=True)
json.dump(out, open("/work/runs/out/retry_effect.json", "w"), indent=1)
