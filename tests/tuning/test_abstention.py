import math

import pytest

from rag_app.chain.rag import Components
from rag_app.config import Settings
from rag_app.retrieval.pipeline import RetrievalPipeline, stored_thresholds
from rag_app.store import CollectionStore
from rag_app.tuning import abstention
from rag_app.tuning.abstention import (
    calibrate,
    calibrate_collection,
    own_questions,
    stored_calibration,
    threshold_above,
)
from rag_app.types import Chunk


def test_a_threshold_lets_at_most_the_share_of_values_through() -> None:
    values = [i / 10 for i in range(1, 11)]  # 0.1 ... 1.0
    assert threshold_above(values, 0.1) == 0.901  # only 1.0 reaches it
    assert sum(v >= threshold_above(values, 0.25) for v in values) == 2
    assert threshold_above([0.5] * 4, 0.5) == 0.501  # ties at the boundary are refused together


def test_own_questions_ask_about_every_document_not_the_first_chunks() -> None:
    def text(source: str) -> str:
        return " ".join(f"{source}{n}" for n in range(14)) + "."

    children = [Chunk(id=f"{s}{i}", text=text(s), source=s) for s in "abc" for i in range(20)]
    questions = own_questions(children, count=6, seed=0)
    assert len(questions) == 6 and all(6 <= len(q.split()) <= 12 for q in questions)
    asked = [next(s for s in "abc" if q in text(s)) for q in questions]
    assert sorted(asked) == ["a", "a", "b", "b", "c", "c"]  # two rounds over the documents


def test_calibration_is_stored_with_the_collection_and_used_by_the_chat(
    ingested: Settings,
) -> None:
    calibration = calibrate_collection(ingested)
    t = calibration.thresholds
    assert 0 < calibration.off_topic <= len(abstention.off_topic_questions())
    assert calibration.off_topic_accepted <= 2 * abstention.OFF_TOPIC_SHARE + 1e-9
    # One question per child with a sentence of 8 words or more (the fixture has few).
    assert 0 < calibration.own <= 100 and 0 <= calibration.own_accepted <= 1
    # Every swapped-in name is one the fixture never mentions: the key-term check refuses all.
    assert calibration.swapped == calibration.own and calibration.swapped_refused == 1.0
    with CollectionStore(ingested) as store:
        assert stored_calibration(store) == calibration
        assert calibration.generation == store.state.generation
        pipeline = Components(ingested).with_settings().pipeline
        assert pipeline.min_dense_similarity == t.min_dense_similarity
        assert pipeline.min_word_coverage == t.min_word_coverage
        assert stored_thresholds(store.state) == t
    assert "off-topic" in calibration.summary()


def test_too_few_off_topic_questions_keep_the_configured_thresholds(
    ingested: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(abstention, "off_topic_questions", lambda: ["How do I bake bread?"])
    with CollectionStore(ingested) as store:
        pipeline = RetrievalPipeline.from_settings(
            ingested, Components(ingested).retriever, store=store
        )
        calibration = calibrate(store, pipeline, ingested, own=["water the tomato beds"])
    assert calibration.thresholds.min_dense_similarity == ingested.min_dense_similarity
    assert calibration.thresholds.min_word_coverage == ingested.min_word_coverage
    assert calibration.off_topic == 1 and not math.isnan(calibration.own_accepted)
