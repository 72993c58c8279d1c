import json
import math
from pathlib import Path
from typing import Any

import pytest

from eval.retrieval import (
    METRICS,
    ConfigRun,
    TuningGrid,
    evaluate_retrieval,
    paired_gain,
    tune_bm25,
    tune_fusion,
)
from rag_app.config import Settings
from rag_app.retrieval.rerank import tuned_reranker_dir
from tests.fakes import RecordingLLM

TINY = Path(__file__).parents[1] / "fixtures" / "beir-tiny"


def test_tune_fusion_picks_the_grid_values_that_rank_the_relevant_document_first() -> None:
    # Sparse is right for both queries, dense is wrong: alpha 0 (sparse only) must win, and
    # any rrf k ties, so the first in the grid is kept.
    dense = {"q1": [("c-bad", 0.9), ("c-good", 0.2)], "q2": [("c-bad", 0.8), ("c-x", 0.7)]}
    sparse = {"q1": [("c-good", 9.0), ("c-bad", 1.0)], "q2": [("c-x", 5.0), ("c-bad", 4.0)]}
    qrels = {"q1": {"good": 1}, "q2": {"x": 1}}
    grid = TuningGrid(alphas=(0.0, 0.5, 1.0), rrf_ks=(10, 60))

    k, alpha, table = tune_fusion(dense, sparse, qrels, lambda ids: [i[2:] for i in ids], grid)

    assert alpha == 0.0
    assert table["alpha"]["0.0"] == 1.0
    assert table["alpha"]["1.0"] < 1.0
    assert k == 10
    assert set(table["rrf_k"]) == {"10", "60"}


class FakeIndex:
    """Ranks "c-good" first only when built with k1 = 1.5 (b is ignored)."""

    def __init__(self, k1: float, b: float) -> None:
        self.k1, self.b = k1, b

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        order = ["c-good", "c-bad"] if self.k1 == 1.5 else ["c-bad", "c-good"]
        return [(i, 1.0) for i in order][:k]


def test_tune_bm25_keeps_the_index_whose_k1_and_b_rank_best_on_their_own() -> None:
    grid = TuningGrid(bm25_k1s=(1.2, 1.5, 2.0), bm25_bs=(0.5, 0.75))
    built: list[tuple[float, float]] = []

    def build(k1: float, b: float) -> Any:
        built.append((k1, b))
        return FakeIndex(k1, b)

    index, table = tune_bm25(
        build, {"q1": "text"}, {"q1": {"good": 1}}, lambda ids: [i[2:] for i in ids], grid, 10
    )

    assert len(built) == 6 and set(table) == {f"{k},{b}" for k, b in built}
    assert (index.k1, index.b) == (1.5, 0.5)  # the tie on b goes to the first in the grid
    assert table["1.5,0.5"] == 1.0 and table["1.2,0.5"] < 1.0


def test_unknown_config_is_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match=r"unknown retrieval config.*'nope'"):
        evaluate_retrieval(TINY, settings, configs=["bm25", "nope"])


def test_evaluation_on_a_tiny_beir_set(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = evaluate_retrieval(
        TINY,
        settings,
        configs=["bm25", "dense", "hybrid-rrf", "hybrid-alpha", "hybrid-rrf+rerank"],
        out=out,
        grid=TuningGrid(alphas=(0.3, 0.7), rrf_ks=(10, 60), bm25_k1s=(1.2, 1.5), bm25_bs=(0.75,)),
    )

    variant = report["collections"]["beir-beir-tiny"]
    assert set(variant["tuning"]["grid"]["bm25"]) == {"1.2,0.75", "1.5,0.75"}
    assert variant["settings"]["bm25_k1"] in (1.2, 1.5) and variant["settings"]["bm25_b"] == 0.75
    assert variant["ingest"]["documents"] == 6
    assert variant["tuning"]["split"] == "train" and variant["tuning"]["queries"] == 2
    assert set(report["configs"]) == {"bm25", "dense", "hybrid-rrf", "hybrid-alpha"}
    assert "rag tune" in report["skipped"]["hybrid-rrf+rerank"]  # no cross-encoder here
    for metrics in report["configs"].values():
        assert set(METRICS) <= set(metrics)
        assert all(0.0 <= metrics[m] <= 1.0 for m in METRICS)
        assert metrics["latency_p50_ms"] > 0
    # Each query names its document plainly: keyword search must put it first.
    assert report["configs"]["bm25"]["mrr@10"] == 1.0

    saved = json.loads((out / "results.json").read_text())
    assert saved["configs"]["bm25"]["ndcg@10"] == report["configs"]["bm25"]["ndcg@10"]
    assert "| hybrid-rrf |" in (out / "results.md").read_text()
    assert (out / "results.png").stat().st_size > 1000

    again = evaluate_retrieval(TINY, settings, configs=["bm25"], tune_split=None)
    ingest = again["collections"]["beir-beir-tiny"]["ingest"]
    assert ingest["summary"].startswith("0 ingested, 6 unchanged")


@pytest.mark.integration
def test_rerank_configs_use_the_collections_tuned_cross_encoder(settings: Settings) -> None:
    from sentence_transformers import CrossEncoder

    from rag_app.models.resolve import resolve_embedder

    folder = tuned_reranker_dir(settings.models_dir, "beir-beir-tiny")
    base = resolve_embedder(settings.embedding_model).path
    CrossEncoder(str(base), num_labels=1, max_length=64).save(str(folder))
    try:
        report = evaluate_retrieval(
            TINY,
            settings,
            configs=["hybrid-rrf", "hybrid-rrf+rerank"],
            grid=TuningGrid(alphas=(0.5,), rrf_ks=(60,), rerank_depths=(2, 4)),
        )
    finally:
        import shutil

        shutil.rmtree(folder)
    variant = report["collections"]["beir-beir-tiny"]
    assert variant["models"]["reranker"] == str(folder)
    assert variant["tuning"]["rerank_depth"] in (2, 4)
    rerank = report["configs"]["hybrid-rrf+rerank"]
    assert not math.isnan(rerank["ndcg@10"])
    assert rerank["latency_p50_ms"] > 0  # timed, but not compared: the CPU may be shared
    gain = rerank["rerank_gain"]
    assert gain["ndcg@10"] == pytest.approx(
        rerank["ndcg@10"] - report["configs"]["hybrid-rrf"]["ndcg@10"]
    )
    assert gain["low"] <= gain["ndcg@10"] <= gain["high"]


def test_gain_is_paired_over_the_same_queries() -> None:
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}}
    base = ConfigRun({"q1": ["d9", "d1"], "q2": ["d2"]}, [0.0, 0.0])
    better = ConfigRun({"q1": ["d1", "d9"], "q2": ["d2"]}, [0.0, 0.0])
    gain = paired_gain(better, base, qrels)
    # q1 goes from 1/log2(3) to 1, q2 stays at 1: the mean gains half of q1's
    assert gain["ndcg@10"] == pytest.approx((1 - 1 / math.log2(3)) / 2)
    assert gain["low"] == pytest.approx(0.0) and gain["high"] == pytest.approx(1 - 1 / math.log2(3))


def test_hyde_configs_search_the_llms_passage_and_report_its_paired_gain(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A query none of whose words is in the corpus: keyword search finds nothing, the
    # hypothetical passage finds its document.
    dataset = tmp_path / "riddle"
    (dataset / "qrels").mkdir(parents=True)
    (dataset / "corpus.jsonl").write_text((TINY / "corpus.jsonl").read_text())
    (dataset / "queries.jsonl").write_text('{"_id": "r1", "text": "xyzzy plugh"}\n')
    (dataset / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nr1\td1\t1\n")
    llm = RecordingLLM(responses=["The garden shed is closed on Mondays."])
    monkeypatch.setattr("rag_app.models.llm.make_chat_model", lambda s: llm)
    out = tmp_path / "out"

    report = evaluate_retrieval(dataset, settings, configs=["bm25", "bm25+hyde"], out=out)

    assert report["configs"]["bm25"]["ndcg@10"] == 0.0
    assert report["configs"]["bm25+hyde"]["ndcg@10"] == 1.0
    assert report["configs"]["bm25+hyde"]["expansion_gain"]["ndcg@10"] == 1.0
    assert "xyzzy plugh" in str(llm.prompts[0][0].content)
    kept = json.loads((out / "expansions-hyde.jsonl").read_text())
    assert kept["expansions"] == ["The garden shed is closed on Mondays."]
    assert "Gain of query expansion" in (out / "results.md").read_text()


def test_a_run_without_configs_calls_no_llm(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(settings: Settings) -> None:
        raise AssertionError("a default config loaded the LLM")

    monkeypatch.setattr("rag_app.models.llm.make_chat_model", refuse)
    report = evaluate_retrieval(TINY, settings, tune_split=None)
    assert not any("+hyde" in c or "+multi" in c for c in [*report["configs"], *report["skipped"]])


def test_collections_are_compared_side_by_side(settings: Settings, tmp_path: Path) -> None:
    report = evaluate_retrieval(
        TINY,
        settings,
        configs=["bm25", "hybrid-rrf+rerank"],
        tune_split=None,
        collections=["tiny-a", "tiny-b"],
        out=tmp_path / "out",
    )
    assert set(report["collections"]) == {"tiny-a", "tiny-b"}
    assert set(report["configs"]) == {"bm25 [tiny-a]", "bm25 [tiny-b]"}
    assert set(report["skipped"]) == {"hybrid-rrf+rerank [tiny-a]", "hybrid-rrf+rerank [tiny-b]"}
    a, b = report["configs"]["bm25 [tiny-a]"], report["configs"]["bm25 [tiny-b]"]
    assert a["ndcg@10"] == b["ndcg@10"]  # same corpus, same keyword index
    markdown = (tmp_path / "out" / "results.md").read_text()
    assert "| bm25 [tiny-a] |" in markdown and "Collection `tiny-b`" in markdown


def test_fusion_tuned_on_the_embedders_own_training_queries_is_flagged(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from eval.retrieval import _trained_on
    from rag_app.store import TunedEmbedder

    model = tmp_path / "embedder"
    model.mkdir()
    from rag_app.models.cards import (
        CardData,
        EmbedderCard,
        EmbedderValidation,
        TrainingRun,
        card_json,
    )

    card = EmbedderCard(
        base_model="base",
        created="2026-12-02T00:00:00+00:00",
        data=CardData(
            labels=str(TINY),
            split="train",
            collection="c",
            train_questions=3,
            validation_questions=1,
        ),
        loss="MNRL",
        settings=TrainingRun(
            batch_size=2,
            learning_rate=1e-5,
            epochs=1,
            steps=1,
            budget_minutes=1,
            stopped_by_budget=False,
            seed=0,
        ),
        validation=EmbedderValidation(metric="ndcg@10", base=0.5, tuned=0.6),
        installed=True,
        wall_seconds=1.0,
    )
    (model / "card.json").write_text(card_json(card))
    store = SimpleNamespace(tuned_embedder=TunedEmbedder(str(model), "base", "vectors"))
    collection: Any = SimpleNamespace(store=store)

    assert "trained on train queries" in str(_trained_on(collection, TINY, "train"))
    assert _trained_on(collection, TINY, "dev") is None
    assert _trained_on(collection, tmp_path, "train") is None  # another dataset
    assert _trained_on(collection, TINY, None) is None
    untuned: Any = SimpleNamespace(store=SimpleNamespace(tuned_embedder=None))
    assert _trained_on(untuned, TINY, "train") is None


def test_an_ingested_collection_is_measured_on_questions_naming_their_sources(
    ingested: Settings, tmp_path: Path
) -> None:
    """`rag eval retrieval --questions`: the user's own collection as it is (nothing
    ingested, nothing tuned), documents judged by the file's sources."""
    from rag_app.store import CollectionStore

    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps({"question": q, "sources": [s]})
            for q, s in (
                ("When are the compost bins emptied?", "garden.md"),
                ("What must be written in the blue logbook?", "guide/tools.md"),
                ("When does the garden committee meet?", "notes.txt"),
            )
        )
    )
    with CollectionStore(ingested) as store:
        before = store.state.generation
    out = tmp_path / "out"
    report = evaluate_retrieval(
        None, ingested, configs=["bm25", "hybrid-alpha"], questions=questions, out=out
    )

    assert report["dataset"]["queries"] == 3 and report["dataset"]["split"] == "all"
    assert report["dataset"]["corpus"] == 3
    variant = report["collections"][ingested.collection]
    assert variant["tuning"] is None and variant["ingest"]["summary"] == "measured as ingested"
    # Each question names words only its own document holds: keyword search ranks it first.
    assert report["configs"]["bm25"]["mrr@10"] == 1.0
    assert 0.0 < report["configs"]["hybrid-alpha"]["ndcg@10"] <= 1.0
    assert "| hybrid-alpha |" in (out / "results.md").read_text()
    with CollectionStore(ingested) as store:
        assert store.state.generation == before


def test_a_question_whose_source_is_not_in_the_collection_is_named(
    ingested: Settings, tmp_path: Path
) -> None:
    from rag_app.tuning.data import LabelError

    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        json.dumps({"question": "When is the shed open?", "sources": ["guide/tools.md"]})
        + "\n"
        + json.dumps({"question": "Who wrote the annual report?", "sources": ["report.pdf"]})
    )
    with pytest.raises(LabelError, match=r"questions.jsonl:2: .*report\.pdf"):
        evaluate_retrieval(None, ingested, configs=["bm25"], questions=questions)
