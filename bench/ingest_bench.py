"""Ingest throughput against the raw encoder, and unchanged re-ingest, on real corpora.

    python -m bench.ingest_bench ../shared/data/fastapi-docs/docs ../shared/data/aragog/papers

Each corpus goes into a fresh RAG_HOME (empty embedding cache). The raw rate is
`SentenceTransformer.encode` on exactly the chunk texts ingest embedded, same model and batch
size, model already loaded for both; the ratio is ingest chunks/s over that rate.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from ingest.pipeline import Ingestor
from rag_app.config import Settings

RESULTS = Path(__file__).parent / "results"


def measure(corpus: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home))
        ingestor = Ingestor(settings)
        ingestor.store.embedder.warm_up()
        started = time.perf_counter()
        first = ingestor.run([corpus])
        ingest_s = time.perf_counter() - started
        stats = ingestor.store.state.stats()
        texts = [c.search_text() for c in ingestor.store.state.children()]
        started = time.perf_counter()
        again = ingestor.run([corpus])
        reingest_s = time.perf_counter() - started
        started = time.perf_counter()
        ingestor.store.embedder.encode_passages(texts)
        encode_s = time.perf_counter() - started
        ingestor.store.close()
    ingest_rate = first.embedded / ingest_s
    encode_rate = len(texts) / encode_s
    return {
        "corpus": str(corpus),
        "files": len(first.files),
        "failed": first.count("failed"),
        "chunks": stats.chunks,
        "duplicates": stats.duplicates,
        "parents": stats.parents,
        "embedded": first.embedded,
        "ingest_s": round(ingest_s, 2),
        "ingest_chunks_per_s": round(ingest_rate, 2),
        "raw_encode_chunks_per_s": round(encode_rate, 2),
        "ratio_to_raw_encode": round(ingest_rate / encode_rate, 3),
        "reingest_unchanged_s": round(reingest_s, 3),
        "reingest_share_of_first": round(reingest_s / ingest_s, 4),
        "reingest_skipped": again.count("skipped"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpora", nargs="+", type=Path)
    args = parser.parse_args()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    rows = [measure(corpus) for corpus in args.corpora]
    result = {
        "date": date.today().isoformat(),
        "commit": commit,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "ingest": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{result['date']}-{commit}-ingest.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
