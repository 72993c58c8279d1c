"""The scale part on a tiny store: built once, searched embedded and through `chroma run`."""

from pathlib import Path

import numpy as np
import pytest

from bench.scale_bench import measure_size
from rag_app.store.vectors import Hnsw


@pytest.mark.integration
def test_one_size_is_searched_embedded_and_through_the_server(tmp_path: Path) -> None:
    seeds = np.random.default_rng(0).standard_normal((50, 16)).astype(np.float32)
    queries = seeds[:11] / np.linalg.norm(seeds[:11], axis=1, keepdims=True)
    row = measure_size(300, seeds, queries, k=5, hnsw=Hnsw(), work=tmp_path)
    assert row["size"] == 300 and row["disk_mb"] > 0
    for mode in ("embedded", "server"):
        found = row[mode]
        assert found["n"] == 10  # the first query (the index load) is reported apart
        assert 0 < found["p50_ms"] <= found["p95_ms"]
        assert found["rss_loaded_mb"] > 0
    assert not (tmp_path / "chroma-300").exists()  # the built store is removed after
