import json
import math
from pathlib import Path

import pytest

from eval.retrieval import BeirCollection
from rag_app.beir import load_beir
from rag_app.config import Settings
from rag_app.models.cards import RerankerCard, read_card
from rag_app.retrieval.hybrid import HybridRetriever
from rag_app.retrieval.metrics import ndcg_at_k
from rag_app.retrieval.rerank import CrossEncoderReranker, load_reranker, tuned_reranker_dir
from rag_app.tuning import tune
from rag_app.tuning.cross_encoder import BLEND_WEIGHTS, best_use, orders
from rag_app.tuning.data import (
    Example,
    LabelError,
    load_labelled,
    mine_examples,
    split_questions,
)

TINY = Path(__file__).parents[1] / "fixtures" / "beir-tiny"


@pytest.fixture
def tiny(settings: Settings) -> BeirCollection:
    collection = BeirCollection(load_beir(TINY, "test"), settings)
    collection.prepare()
    return collection


def test_mined_positives_are_from_relevant_documents_and_never_among_negatives(
    tiny: BeirCollection,
) -> None:
    sources = tiny.store.state.documents().keys()
    questions = load_labelled(TINY, sources, split="test")
    assert {q.id for q in questions} == {"q1", "q2", "q3", "q4"}
    retriever = HybridRetriever.from_store(tiny.store)

    examples = mine_examples(questions, retriever, tiny.store.state, 6, 4, seed=0)

    assert len(examples) == 4
    for question, example in zip(questions, examples, strict=True):
        relevant_text = {
            c.search_text() for c in tiny.store.state.children() if c.source in question.relevant
        }
        assert example.positives and set(example.positives) <= relevant_text
        assert not set(example.negatives) & relevant_text
        assert 0 < len(example.negatives) <= 4


def test_jsonl_labels_match_sources_by_suffix_or_glob_and_name_bad_lines(
    tiny: BeirCollection, tmp_path: Path
) -> None:
    sources = list(tiny.store.state.documents().keys())
    path = tmp_path / "labels.jsonl"
    path.write_text(
        json.dumps({"question": "shed hours?", "sources": ["docs/d1.md"]})
        + "\n"
        + json.dumps({"question": "bees?", "sources": ["*d5%2Ev2.md"]})
        + "\n"
    )
    first, second = load_labelled(path, sources)
    assert [Path(s).name for s in first.relevant] == ["d1.md"]
    assert [Path(s).name for s in second.relevant] == ["d5%2Ev2.md"]

    path.write_text(json.dumps({"question": "x?", "sources": ["nowhere.md"]}) + "\n")
    with pytest.raises(LabelError, match=r"labels.jsonl:1: none of \['nowhere.md'\]"):
        load_labelled(path, sources)


def test_split_holds_out_at_least_one_question_reproducibly() -> None:
    from rag_app.tuning.data import LabelledQuestion

    questions = [LabelledQuestion(str(i), f"q{i}", frozenset({"s"})) for i in range(10)]
    train, val = split_questions(questions, 0.2, seed=1)
    assert len(val) == 2 and len(train) == 8
    assert not {q.id for q in train} & {q.id for q in val}
    assert split_questions(questions, 0.2, seed=1) == (train, val)
    with pytest.raises(LabelError, match="too few"):
        split_questions(questions[:1], 0.2, seed=1)


def test_validation_orders_and_the_choice_between_them() -> None:
    example = Example("q", ["good"], [], candidates=["bad1", "bad2", "good", "bad3"])
    scores = [0.1, 0.2, 0.9, 0.0]  # the cross-encoder puts "good" first
    found = orders(example, scores, depths=[2, 4], rrf_k=60)
    assert found["fused"] == ["bad1", "bad2", "good", "bad3"]
    assert found["replace@2"] == ["bad2", "bad1", "good", "bad3"]  # "good" beyond depth 2
    assert found["replace@4"][0] == "good"
    assert ndcg_at_k(found["replace@4"], {"good": 1}, 10) == 1.0
    assert ndcg_at_k(found["fused"], {"good": 1}, 10) == pytest.approx(0.5)
    # blend at 0.75 over 4: good = 0.75 * 1 + 0.25 * 1/3 beats bad1 = 0.75 * 1/9 + 0.25
    assert found["blend-0.75@4"][0] == "good"
    assert found["blend-0.25@4"][0] == "bad1"  # at 0.25 the fused lead holds
    assert best_use({"replace@10": 0.7, "rrf@10": 0.7, "replace@50": 0.7}) == ("replace", 10)
    assert best_use({"replace@10": 0.6, "rrf@30": 0.8}) == ("rrf", 30)
    assert best_use({"rrf@10": 0.6, "blend-0.25@20": 0.7}) == ("blend-0.25", 20)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("head", "loss"), [("mean", "listnet"), ("cls", "bce"), ("mean", "lambda")]
)
def test_rag_tune_trains_a_loadable_cross_encoder_that_the_chain_picks_up(
    tiny: BeirCollection, capsys: pytest.CaptureFixture[str], head: str, loss: str
) -> None:
    settings = tiny.settings.model_copy(
        update={
            "tune_keep_worse": True,  # a few steps on 3 questions need not beat fused
            "tune_reranker_head": head,
            "tune_reranker_loss": loss,
            "tune_epochs": 1,
            "tune_batch_size": 4,
            "tune_validation_share": 0.25,
            "tune_max_length": 64,
            "tune_candidates": 6,
            "tune_negatives": 3,
        }
    )
    tiny.close()
    card = tune(TINY, settings, split="test", targets=("reranker",))["reranker"]

    folder = tuned_reranker_dir(settings.models_dir, settings.collection)
    try:
        assert isinstance(card, RerankerCard)
        assert read_card(folder, RerankerCard) == card  # what was written is what was returned
        assert card.data.train_questions == 3 and card.data.validation_questions == 1
        assert card.installed and card.settings.steps >= 1
        assert card.settings.model_extra == {
            "head": head,
            "max_length": 64,
            "frozen_layers": settings.tune_frozen_layers,
            "trainable_parameters": card.settings.model_extra["trainable_parameters"],
        }
        described = {"bce": "BinaryCrossEntropyLoss", "listnet": "ListNet", "lambda": "Lambda"}
        assert card.loss.startswith(described[loss])
        uses = ("replace", "rrf", *(f"blend-{w}" for w in BLEND_WEIGHTS))
        assert str(card.combine) in uses and card.rerank_depth >= 1
        assert json.loads((folder / "card.json").read_text())["combine"] == str(card.combine)
        reranker = load_reranker(
            settings.model_copy(update={"rerank_max_length": 64, "rerank_batch_size": 8})
        )
        assert isinstance(reranker, CrossEncoderReranker)
        assert reranker.depth == card.rerank_depth and reranker.combine == card.combine
        # Its abstention threshold and its backend come from validation, written in the card.
        assert isinstance(card.min_score, float) and reranker.min_score == card.min_score
        int8 = card.int8_onnx
        assert int8["validation_seconds"] > 0 and 0.0 <= int8["validation_best"] <= 1.0
        assert reranker.backend == card.backend == ("onnx-int8" if int8["chosen"] else "torch")
        assert (folder / "onnx" / "model_qint8.onnx").is_file() == int8["chosen"]

        from rag_app.cli import main

        capsys.readouterr()
        assert main(["status", "--json", "--collection", settings.collection]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["reranker"].startswith(f"{folder} (tuned ")
    finally:
        import shutil

        shutil.rmtree(folder)


@pytest.mark.integration
def test_a_reranker_can_start_from_an_earlier_model(tmp_path: Path) -> None:
    import numpy as np

    from rag_app.models.resolve import resolve_embedder
    from rag_app.retrieval.rerank import cross_encoder_logits
    from rag_app.tuning.cross_encoder import _model

    base = str(resolve_embedder("all-MiniLM-L6-v2").path)
    first = _model(base, "mean", 64)
    first.save(str(tmp_path / "first"))
    # The earlier model comes back whole (its own head), not a fresh one on the bi-encoder.
    again = _model(base, "cls", 64, init=tmp_path / "first")
    pairs = [("when is the shed closed", "on Mondays"), ("bees", "honey from nectar")]
    before = cross_encoder_logits(first, pairs, batch_size=2)
    assert np.allclose(before, cross_encoder_logits(again, pairs, batch_size=2), atol=1e-5)


def test_a_validation_gain_counts_only_when_its_interval_clears_zero() -> None:
    """The install rule: two questions won among 50 ties is luck of the split, a win on most
    questions is not, and a model measured on no question is never installed."""
    from rag_app.tuning.training import validation_gain

    ties = [1.0] * 48
    lucky = validation_gain([*ties, 1.0, 1.0], [*ties, 0.5, 0.5])
    assert lucky.mean == pytest.approx(0.02) and lucky.low == 0.0 and not lucky.clear
    steady = validation_gain([0.8] * 40 + [0.5] * 10, [0.6] * 40 + [0.6] * 10)
    assert steady.low > 0 and steady.clear and steady.questions == 50
    assert "on 50" in steady.describe()
    worse = validation_gain([0.5] * 10, [0.6] * 10)
    assert worse.high < 0 and not worse.clear
    empty = validation_gain([], [])
    assert math.isnan(empty.mean) and not empty.clear
