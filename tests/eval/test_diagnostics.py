"""`rag eval index | health | scores` on tiny collections: the maths is tested in
test_vector_stats; here, that each command reads the collection without changing it, measures
what it says, and writes its report."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from eval.diagnostics import CollectionVectors
from eval.health import embedding_health, evaluate_health
from eval.index_recall import IndexGrid, evaluate_index, recommend
from eval.scores import evaluate_scores
from ingest import ingest_paths
from rag_app.cli import main
from rag_app.config import Settings
from rag_app.store import CollectionStore

TINY = Path(__file__).parents[1] / "fixtures" / "beir-tiny"


def _vectors(rows: list[list[float]]) -> CollectionVectors:
    n = len(rows)
    return CollectionVectors(
        [f"c{i}" for i in range(n)],
        [f"/docs/d{i}.md" for i in range(n)],
        [f"text {i}" for i in range(n)],
        np.asarray(rows, dtype=np.float32),
    )


def test_the_hub_is_the_chunk_every_other_chunk_is_nearest_to() -> None:
    hub = list(np.ones(3) / math.sqrt(3))
    health, occurrence = embedding_health(
        _vectors([[1, 0, 0], hub, [0, 1, 0], [0, 0, 1]]), k=1, hubs=2, near_duplicate=0.98
    )
    assert health["hubs"][0]["id"] == "c1" and health["hubs"][0]["k_occurrence"] == 3
    assert occurrence.sum() == 4  # each chunk names exactly one neighbour
    assert health["near_duplicates"]["0.98"] == 0.0
    assert health["anisotropy"] == pytest.approx((3 * (1 / math.sqrt(3))) / 6)
    assert health["hubness_skew"] > 0.5  # k-occurrence 3, 1, 0, 0


def test_identical_chunks_count_as_near_duplicates() -> None:
    health, _ = embedding_health(
        _vectors([[1, 0], [1, 0], [0, 1]]), k=1, hubs=1, near_duplicate=0.98
    )
    assert health["near_duplicates"]["0.98"] == pytest.approx(2 / 3)
    assert health["nearest_in_same_document"] == 0.0  # every row is its own document


def test_recommend_needs_the_target_at_every_size_and_prefers_less_work() -> None:
    def row(m: int, ef: int, recall: float) -> dict[str, float]:
        return {"max_neighbors": m, "ef_search": ef, "recall": recall, "latency_p50_ms": 1.0}

    rows = {
        "small M=16 ef=10": row(16, 10, 1.0),
        "large M=16 ef=10": row(16, 10, 0.95),  # fails at the large size
        "small M=16 ef=50": row(16, 50, 1.0),
        "large M=16 ef=50": row(16, 50, 0.995),
        "small M=32 ef=50": row(32, 50, 1.0),
        "large M=32 ef=50": row(32, 50, 1.0),
        "large exact": {"recall": 1.0, "latency_p50_ms": 5.0},
    }
    rec = recommend(rows, ["small", "large"], 0.99)
    assert (rec["max_neighbors"], rec["ef_search"]) == (16, 50)
    assert rec["below_target"] == {"small": [], "large": ["M=16 ef=10"]}


def test_index_recall_on_a_tiny_collection_leaves_it_unchanged(
    settings: Settings, docs_dir: Path, tmp_path: Path
) -> None:
    ingest_paths([docs_dir], settings)
    store = CollectionStore(settings)
    before = store.vectors.count()
    store.close()
    out = tmp_path / "index"
    report = evaluate_index(
        settings, out, queries=5, synthetic=600, grid=IndexGrid((8,), (100,)), k=3
    )
    assert report["chunks"] == before
    rows = report["rows"]
    assert set(rows) == {
        "collection M=8 ef=100",
        "collection exact",
        "synthetic-600 M=8 ef=100",
        "synthetic-600 exact",
    }
    assert rows["synthetic-600 M=8 ef=100"]["size"] == 600
    assert all(0.0 <= r["recall"] <= 1.0 and r["latency_p50_ms"] > 0 for r in rows.values())
    # a handful of chunks: HNSW with a wide search is exact
    assert rows["collection M=8 ef=100"]["recall"] == 1.0
    assert report["recommendation"]["setting"] is not None
    assert (out / "results.png").stat().st_size > 1000
    assert "| synthetic-600 M=8 ef=100 |" in (out / "results.md").read_text()
    again = CollectionStore(settings)
    try:  # scratch indexes live elsewhere; the user's vectors are as they were
        assert again.vectors.count() == before
    finally:
        again.close()


def test_ef_search_setting_reaches_an_existing_collection(
    settings: Settings, docs_dir: Path
) -> None:
    ingest_paths([docs_dir], settings)
    wider = settings.model_copy(update={"hnsw_ef_search": 300})
    with CollectionStore(wider) as store:
        hnsw = (store.vectors._collection.configuration or {}).get("hnsw") or {}
        assert hnsw["ef_search"] == 300
        assert hnsw["max_neighbors"] == settings.hnsw_max_neighbors


@pytest.mark.integration
def test_health_on_a_tiny_beir_set_scores_truncated_vectors(
    settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "health"
    report = evaluate_health(settings, out, dataset=TINY, hubs=3)
    cut = report["truncation"]
    assert list(cut) == ["384", "256", "128"]
    assert cut["384"]["top10_overlap"] == 1.0
    assert cut["384"]["memory_mb"] == pytest.approx(3 * cut["128"]["memory_mb"])
    assert all(0.0 <= row["ndcg@10"] <= 1.0 for row in cut.values())
    h = report["health"]
    assert len(h["hubs"]) == 3 and -1.0 <= h["anisotropy"] <= 1.0
    assert report["documents"] == 6
    assert (out / "map.png").stat().st_size > 1000
    text = (out / "results.md").read_text()
    assert "## Hub chunks" in text and "| 128 |" in text


def test_score_health_recommends_a_threshold_that_keeps_the_answerable(
    settings: Settings, docs_dir: Path, tmp_path: Path
) -> None:
    questions = tmp_path / "q.jsonl"
    rows = [
        {"question": "When is the tool shed closed?"},
        {"question": "How often is the compost pile turned?"},
        {"question": "Where does the garden committee meet?"},
        {"question": "What is the boiling point of liquid nitrogen?", "answerable": False},
    ]
    questions.write_text("\n".join(json.dumps(r) for r in rows))
    out = tmp_path / "scores"
    report = evaluate_scores(questions, settings, out, docs=docs_dir, keep=1.0)
    assert (report["answerable"], report["unanswerable"]) == (3, 1)
    assert report["reranker"].startswith("none")
    gates = {r["id"]: r["gate"] for r in report["per_question"]}
    kept = report["thresholds"]["keeps 100% answerable"]
    assert kept["answerable_kept"] == 1.0
    assert kept["threshold"] == min(r["gate"] for r in report["per_question"] if r["answerable"])
    assert report["recommended_min_dense_similarity"] == math.floor(kept["threshold"] * 100) / 100
    assert all(-1.0 <= g <= 1.0 for g in gates.values())
    assert (out / "results.png").stat().st_size > 1000


def test_cli_reports_a_missing_questions_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "scores", "--questions", "nope.jsonl"]) == 1
    assert "no such questions file: nope.jsonl" in capsys.readouterr().err
