"""The store's encoder seam: ingest and retrieval with a fake encoder, no model loaded."""

import subprocess
import sys
from pathlib import Path

from ingest.pipeline import Ingestor
from rag_app.config import Settings
from rag_app.retrieval.hybrid import HybridRetriever
from rag_app.retrieval.pipeline import RetrievalPipeline
from rag_app.store import CollectionStore
from tests.conftest import REPO
from tests.fakes import HashingEmbedder


def test_ingest_and_search_run_on_a_given_encoder(settings: Settings, docs_dir: Path) -> None:
    with CollectionStore(settings, embedder=HashingEmbedder()) as store:
        assert Ingestor(settings, store).run([docs_dir]).ok
        assert store.embedding_model == "hashing-test-encoder"
        dense = HybridRetriever(store, "dense")
        found = RetrievalPipeline(dense, top_k=2).run("pitchfork turning the compost pile")
        assert found.hits[0].chunk.section == "Gardening Handbook > Compost > Turning the pile"


def test_a_collection_embedded_by_one_encoder_refuses_another(
    settings: Settings, docs_dir: Path
) -> None:
    import pytest

    from rag_app.errors import InvalidInput

    with CollectionStore(settings, embedder=HashingEmbedder()) as store:
        assert Ingestor(settings, store).run([docs_dir]).ok
    with (
        CollectionStore(settings, embedder=HashingEmbedder(name="another")) as store,
        pytest.raises(InvalidInput, match="was embedded with 'hashing-test-encoder'"),
    ):
        _ = store.vectors


def test_no_model_library_loads(tmp_path: Path) -> None:
    docs = str(REPO / "tests" / "fixtures" / "docs")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from ingest.pipeline import Ingestor\n"
        "from rag_app.config import Settings\n"
        "from rag_app.store import CollectionStore\n"
        "from tests.fakes import HashingEmbedder\n"
        f"settings = Settings(home=Path({str(tmp_path)!r}))\n"
        "with CollectionStore(settings, embedder=HashingEmbedder()) as store:\n"
        f"    assert Ingestor(settings, store).run([Path({docs!r})]).ok\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
