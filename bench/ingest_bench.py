"""Ingest throughput against the raw encoder, unchanged re-ingest, and peak memory.

    python -m bench.ingest_bench --corpus fastapi|scifact|PATH [--out FILE]

Each run starts from an empty home (`bench/.home/ingest-NAME`: no vectors, no embedding cache),
so every chunk is embedded. The raw rate is `SentenceTransformer.encode` through the same
embedder, on a random sample of exactly the texts ingest embedded, model already loaded; the
ratio is ingest chunks/s over that rate: what parsing, chunking and storing cost on top of the
model. The home is kept afterwards: the query and scale parts search the SciFact one.
"""

from __future__ import annotations

import argparse
import random
import shutil
import time
from pathlib import Path
from typing import Any

from bench.common import DATA, HOME, part_main, ratio
from ingest.pipeline import Ingestor
from rag_app.config import Settings

CORPORA = {"fastapi": DATA / "fastapi-docs" / "docs", "scifact": DATA / "scifact"}


def corpus_home(name: str) -> Path:
    return HOME / f"ingest-{name}"


def corpus_settings(name: str, **update: Any) -> Settings:
    return Settings(home=corpus_home(name), collection=name, **update)


def source_folder(name: str, settings: Settings, quick: bool) -> Path:
    """The folder to ingest: a documents folder as is; a BEIR corpus as one Markdown file per
    document, written before the clock starts (the conversion is not part of ingest)."""
    path = CORPORA.get(name, Path(name))
    if not (path / "corpus.jsonl").is_file():
        return path / "deployment" if quick and name == "fastapi" else path
    from eval.chunking import sample_corpus
    from eval.retrieval import BeirCollection
    from rag_app.beir import load_beir

    dataset = load_beir(path)
    if quick:
        dataset = sample_corpus(dataset, queries=20, others=100, seed=0)
    collection = BeirCollection(dataset, settings, collection=settings.collection)
    collection.write_corpus()
    collection.close()
    return collection.folder


def measure(name: str, settings: Settings, quick: bool, encode_sample: int) -> dict[str, Any]:
    shutil.rmtree(settings.home, ignore_errors=True)
    folder = source_folder(name, settings, quick)
    ingestor = Ingestor(settings)
    embedder = ingestor.store.embedder
    embedder.warm_up()
    started = time.perf_counter()
    first = ingestor.run([folder])
    ingest_s = time.perf_counter() - started
    stats = ingestor.store.state.stats()
    started = time.perf_counter()
    again = ingestor.run([folder])
    reingest_s = time.perf_counter() - started
    texts = [c.search_text() for c in ingestor.store.state.children()]
    sample = random.Random(0).sample(texts, min(encode_sample, len(texts)))
    started = time.perf_counter()
    embedder.encode_passages(sample)
    encode_s = time.perf_counter() - started
    ingestor.store.close()
    ingest_rate = first.embedded / ingest_s
    encode_rate = len(sample) / encode_s
    return {
        "corpus": name,
        "path": str(folder),
        "files": len(first.files),
        "failed": first.count("failed"),
        "chunks": stats.chunks,
        "parents": stats.parents,
        "embedded": first.embedded,
        "ingest_s": round(ingest_s, 2),
        "ingest_chunks_per_s": round(ingest_rate, 2),
        "raw_encode_sample": len(sample),
        "raw_encode_chunks_per_s": round(encode_rate, 2),
        "ratio_to_raw_encode": ratio(ingest_rate, encode_rate),
        "reingest_unchanged_s": round(reingest_s, 3),
        "reingest_share_of_first": ratio(reingest_s, ingest_s),
        "reingest_skipped": again.count("skipped"),
        "embedding_model": settings.embedding_model,
        "embedding_batch_size": settings.embedding_batch_size,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = corpus_settings(args.corpus)
    return {"ingest": measure(args.corpus, settings, args.quick, args.encode_sample)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", required=True, help="fastapi, scifact, or a folder")
    parser.add_argument(
        "--encode-sample", type=int, default=3000, help="chunk texts timed through the raw encoder"
    )


if __name__ == "__main__":
    part_main(run, __doc__, add_arguments)
