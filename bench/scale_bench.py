"""Dense search latency and memory at 5k, 50k and 200k vectors, Chroma embedded against
Chroma's server on the same data.

    python -m bench.scale_bench [--sizes 5000,50000,200000] [--queries 200]

The store alone is measured (no embedding): vectors are drawn around the SciFact collection's
real ones when the ingest part has left it behind (HNSW behaves unlike on text on uniform
noise), else around random seeds. Each size is built once with the embedded client and the
configured HNSW settings; then the same folder is searched from a fresh process
(`PersistentClient`) and from a freshly started `chroma run` over HTTP, so both pay the index
load and both memory numbers are the loaded index's, not the build's. The first query (the
load) is reported apart from the latency percentiles.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import folder_mb, part_main, rss_mb, timing
from bench.ingest_bench import corpus_settings
from rag_app.config import Settings
from rag_app.store.vectors import Hnsw, VectorIndex

COLLECTION = "scale"
NOISE = 0.5


def seed_vectors(settings: Settings, quick: bool) -> tuple[np.ndarray, str]:
    from eval.diagnostics import load_vectors
    from rag_app.store import CollectionStore

    with CollectionStore(settings) as store:
        if store.state.has_children() and not quick:
            return load_vectors(store).matrix, f"around the {settings.collection} vectors"
    rng = np.random.default_rng(0)
    return rng.standard_normal((1000, 384)).astype(np.float32), "around 1,000 random seeds"


def _client(path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )


def build(path: Path, matrix: np.ndarray, hnsw: Hnsw) -> float:
    started = time.perf_counter()
    index = VectorIndex(_client(path), COLLECTION, "synthetic", hnsw)
    index.upsert_vectors([str(i) for i in range(len(matrix))], matrix)
    return time.perf_counter() - started


def search_all(index: VectorIndex, queries: np.ndarray, k: int) -> dict[str, Any]:
    started = time.perf_counter()
    index.search(queries[0], k)
    first = time.perf_counter() - started
    seconds = []
    for q in queries[1:]:
        started = time.perf_counter()
        index.search(q, k)
        seconds.append(time.perf_counter() - started)
    return {"first_query_ms": round(first * 1000, 1), **timing(seconds)}


def probe_embedded(path: Path, queries: Path, k: int, hnsw: Hnsw) -> dict[str, Any]:
    """Runs in a fresh process (`--probe`): the memory the loaded index adds to it."""
    before = rss_mb()
    index = VectorIndex(_client(path), COLLECTION, "synthetic", hnsw)
    found = search_all(index, np.load(queries), k)
    return {**found, "rss_before_mb": before, "rss_loaded_mb": rss_mb()}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def chroma_server(path: Path, log: Path) -> Iterator[tuple[int, int]]:
    """`chroma run` on loopback over `path`; yields (port, pid) once its heartbeat answers."""
    port = _free_port()
    chroma = Path(sys.executable).with_name("chroma")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"chroma run did not start; see {log}") from None
                time.sleep(0.2)
        yield port, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def probe_server(path: Path, queries: np.ndarray, k: int, hnsw: Hnsw, log: Path) -> dict[str, Any]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    with chroma_server(path, log) as (port, pid):
        before = rss_mb(pid)
        client = chromadb.HttpClient(
            host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False)
        )
        found = search_all(VectorIndex(client, COLLECTION, "synthetic", hnsw), queries, k)
        return {**found, "rss_before_mb": before, "rss_loaded_mb": rss_mb(pid)}


def measure_size(
    size: int, seeds: np.ndarray, queries: np.ndarray, k: int, hnsw: Hnsw, work: Path
) -> dict[str, Any]:
    from eval.vector_stats import synthetic_neighbours

    path = work / f"chroma-{size}"
    matrix = synthetic_neighbours(seeds, size, NOISE, seed=size)
    build_s = build(path, matrix, hnsw)
    del matrix
    np.save(work / "queries.npy", queries)
    probe = subprocess.run(
        [sys.executable, "-m", "bench.scale_bench", "probe", str(path), "--k", str(k)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    embedded = json.loads(probe.stdout)
    server = probe_server(path, queries, k, hnsw, work / f"server-{size}.log")
    row = {"size": size, "build_s": round(build_s, 1), "disk_mb": folder_mb(path)}
    shutil.rmtree(path)
    return {**row, "embedded": embedded, "server": server}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from eval.vector_stats import synthetic_neighbours

    settings = corpus_settings("scifact")
    hnsw = Hnsw.from_settings(settings)
    sizes = [2000, 10000] if args.quick else [int(s) for s in args.sizes.split(",")]
    seeds, drawn = seed_vectors(settings, args.quick)
    queries = synthetic_neighbours(seeds, args.queries + 1, NOISE, seed=1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as work:
        for size in sizes:
            rows.append(measure_size(size, seeds, queries, args.k, hnsw, Path(work)))
            print(json.dumps(rows[-1]), file=sys.stderr)
    return {
        "vectors": drawn,
        "dimensions": int(seeds.shape[1]),
        "k": args.k,
        "hnsw": {
            "max_neighbors": hnsw.max_neighbors,
            "ef_construction": hnsw.ef_construction,
            "ef_search": hnsw.ef_search,
        },
        "queries": args.queries,
        "scale": rows,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", default="5000,50000,200000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=50, help="results per search (retrieve_n)")


def main() -> None:
    if sys.argv[1:2] != ["probe"]:
        part_main(run, __doc__, add_arguments)
        return
    # `probe DIR --k K`: the embedded search of one built folder, in a process of its own.
    parser = argparse.ArgumentParser(prog="bench.scale_bench probe")
    parser.add_argument("path", type=Path)
    parser.add_argument("--k", type=int, required=True)
    args = parser.parse_args(sys.argv[2:])
    hnsw = Hnsw.from_settings(corpus_settings("scifact"))
    print(json.dumps(probe_embedded(args.path, args.path.parent / "queries.npy", args.k, hnsw)))


if __name__ == "__main__":
    main()
