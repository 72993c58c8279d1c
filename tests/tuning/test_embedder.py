import json
import shutil
from pathlib import Path

import pytest

from eval.retrieval import BeirCollection
from rag_app.beir import load_beir
from rag_app.config import Settings
from rag_app.models.cards import EmbedderCard, read_card
from rag_app.models.resolve import EmbedderSpec, resolve_embedder
from rag_app.retrieval.hybrid import HybridRetriever
from rag_app.store import CollectionStore
from rag_app.tuning import tune
from rag_app.tuning.abstention import stored_calibration
from rag_app.tuning.data import Example
from rag_app.tuning.embedder import _rows, reembed, tuned_embedder_root

TINY = Path(__file__).parents[1] / "fixtures" / "beir-tiny"


@pytest.fixture
def tiny(settings: Settings) -> Settings:
    collection = BeirCollection(load_beir(TINY, "test"), settings)
    collection.prepare()
    collection.close()
    return collection.settings


def test_training_rows_pair_each_positive_with_the_first_negatives_and_prefixes() -> None:
    spec = EmbedderSpec(Path("/m"), query_prefix="query: ", passage_prefix="passage: ")
    examples = [
        Example("q1", ["p1", "p2"], ["n1", "n2", "n3"]),
        Example("q2", ["p3"], ["n4"]),  # too few negatives: left out
    ]
    rows = _rows(examples, spec, negatives=2)
    assert rows == {
        "anchor": ["query: q1", "query: q1"],
        "positive": ["passage: p1", "passage: p2"],
        "negative_1": ["passage: n1", "passage: n1"],
        "negative_2": ["passage: n2", "passage: n2"],
    }
    assert _rows(examples, spec, negatives=0)["anchor"] == ["query: q1", "query: q1", "query: q2"]


def _copy_of_base(settings: Settings, version: str) -> Path:
    folder = tuned_embedder_root(settings.models_dir, settings.collection) / version
    shutil.copytree(resolve_embedder(settings.embedding_model).path, folder)
    return folder


@pytest.mark.integration
def test_reembed_switches_the_collection_to_new_vectors_and_everything_follows(
    tiny: Settings, docs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ingest.pipeline import Ingestor
    from rag_app.cli import main

    old_model = _copy_of_base(tiny, "v1")
    model = _copy_of_base(tiny, "v2")
    with CollectionStore(tiny) as store:
        old_vectors = store.vectors.name
        children = len(store.state.children())
        tuned = reembed(store, model)

        assert store.vectors.name == tuned.vectors != old_vectors
        assert store.vectors.count() == children
        assert old_vectors not in {c.name for c in store.client.list_collections()}
        assert not old_model.exists() and model.is_dir()  # older tunings are removed

    # A new process sees the switch: retrieval, ingest and status use the tuned model.
    with CollectionStore(tiny) as reopened:
        assert reopened.embedder.name == str(model)
        hits = HybridRetriever.from_store(reopened).retrieve("bees", 3)
        assert hits
        report = Ingestor(tiny, reopened).run([docs_dir])
        assert report.ok
        assert reopened.vectors.count() == len(reopened.state.children()) > children
    capsys.readouterr()
    assert main(["status", "--json", "--collection", tiny.collection]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["embedding_model"] == f"{model} (tuned from {tiny.embedding_model})"

    other = CollectionStore(tiny.model_copy(update={"embedding_model": str(old_model.parent)}))
    with pytest.raises(ValueError, match="is tuned from 'all-MiniLM-L6-v2'"):
        _ = other.vectors
    other.close()


@pytest.mark.integration
def test_rag_tune_embedder_installs_only_a_model_that_beats_the_base_on_validation(
    tiny: Settings,
) -> None:
    settings = tiny.model_copy(
        update={
            "tune_embedder_epochs": 1,
            "tune_embedder_batch_size": 2,
            "tune_validation_share": 0.25,
            "tune_candidates": 6,
            "tune_negatives": 2,
        }
    )
    card = tune(TINY, settings, split="test", targets=("embedder",))["embedder"]

    assert isinstance(card, EmbedderCard)
    assert card.data.train_questions == 3 and card.data.validation_questions == 1
    assert card.settings.steps >= 1 and card.data.rows
    v = card.validation
    assert 0.0 <= v.base <= 1.0 and 0.0 <= v.tuned <= 1.0
    assert v.gain is not None and v.gain.questions == 1
    assert v.gain.mean == pytest.approx(v.tuned - v.base)
    assert card.installed == (v.gain.low > 0)
    with CollectionStore(settings) as store:
        tuned = store.tuned_embedder
        calibration = stored_calibration(store)
        if card.installed:
            assert tuned is not None
            assert read_card(Path(tuned.model), EmbedderCard) == card
            # The gate is refitted to the new model's cosines after the re-embedding.
            assert calibration is not None and calibration.calibrated_at >= card.created
        else:
            assert tuned is None
