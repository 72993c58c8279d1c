import json
from pathlib import Path

import pytest

from eval.chunking import dataset_from_docs, evaluate_chunking, sample_corpus
from rag_app.beir import DatasetError, load_beir
from rag_app.config import Settings
from rag_app.retrieval.metrics import paired_bootstrap_interval

TINY = Path(__file__).parents[1] / "fixtures" / "beir-tiny"


def test_sample_keeps_every_relevant_document_and_the_asked_distractors() -> None:
    full = load_beir(TINY, "test")
    sample = sample_corpus(full, 2, 1, seed=0)
    assert len(sample.queries) == 2 and set(sample.qrels) == set(sample.queries)
    relevant = {d for q in sample.queries for d, g in full.qrels[q].items() if g > 0}
    assert relevant <= set(sample.corpus)
    assert len(sample.corpus) == len(relevant) + 1
    assert sample.name == "beir-tiny-q2-d1-s0"
    assert sample_corpus(full, 2, 1, seed=0).corpus.keys() == sample.corpus.keys()


def test_docs_folder_and_questions_become_a_dataset(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "guide").mkdir(parents=True)
    (docs / "guide" / "a.md").write_text("# A\n\nAlpha text.\n")
    (docs / "b.md").write_text("# B\n\nBeta text.\n")
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "alpha?", "sources": ["guide/a.md"]}) + "\n")
    data = dataset_from_docs(docs, questions)
    assert set(data.corpus) == {"guide/a.md", "b.md"}
    assert data.qrels == {"q1": {"guide/a.md": 1}} and data.queries == {"q1": "alpha?"}
    assert set(dataset_from_docs(docs, questions, exclude=["b.*"]).corpus) == {"guide/a.md"}
    questions.write_text(json.dumps({"question": "x?", "sources": ["nope.md"]}) + "\n")
    with pytest.raises(DatasetError, match=r"q\.jsonl:1: no such file .*nope\.md"):
        dataset_from_docs(docs, questions)


def test_paired_bootstrap_interval_brackets_the_mean_difference() -> None:
    assert paired_bootstrap_interval([0.5, 0.7], [0.5, 0.7]) == (0.0, 0.0)
    low, high = paired_bootstrap_interval([0.6, 0.8, 0.4], [0.5, 0.7, 0.3])
    assert low == pytest.approx(0.1) and high == pytest.approx(0.1)
    low, high = paired_bootstrap_interval([1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0])
    assert low < 0.5 < high
    with pytest.raises(ValueError):
        paired_bootstrap_interval([1.0], [])


def test_chunking_sweep_on_a_tiny_beir_set(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "chunking"
    configs = ["192-24-structured", "192-24-recursive"]
    report = evaluate_chunking(load_beir(TINY, "test"), settings, configs, out, "tiny")
    rows = report["configs"]
    assert list(rows) == configs
    assert report["baseline"] == "192-24-structured"
    assert rows["192-24-structured"]["hybrid Δ ndcg@10"] == 0.0
    assert all(row["chunks"] >= 6 and 0.0 <= row["hybrid ndcg@10"] <= 1.0 for row in rows.values())
    assert report["winner"] in configs and report["pending"] == []
    assert "| 192-24-recursive |" in (out / "results.md").read_text()
    assert (out / "results.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="unknown chunking config"):
        evaluate_chunking(load_beir(TINY, "test"), settings, ["7-1-magic"])
