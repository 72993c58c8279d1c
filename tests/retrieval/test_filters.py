from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag_app.chain.rag import build_chain
from rag_app.config import Fusion, Settings
from rag_app.retrieval.hybrid import HybridRetriever
from rag_app.store import CollectionStore
from rag_app.types import Filters


@pytest.fixture
def store(settings: Settings, docs_dir: Path) -> Iterator[CollectionStore]:
    (docs_dir / "page.html").write_text(
        "<html><head><title>Shed FAQ</title></head><body><h1>Shed FAQ</h1>"
        "<h2>Hours</h2><p>The tool shed opens at 8 am.</p></body></html>"
    )
    ingestor = Ingestor(settings)
    assert ingestor.run([docs_dir]).ok
    yield ingestor.store
    ingestor.store.close()


@pytest.mark.parametrize("mode", ["rrf", "dense", "sparse"])
@pytest.mark.parametrize(
    ("filters", "expected_sources"),
    [
        (Filters(source="*/guide/*"), {"tools.md"}),
        (Filters(doc_type="html"), {"page.html"}),
        (Filters(section="gardening handbook > compost"), {"garden.md"}),
        (Filters(source="*.md", section="Tool Shed > Opening"), {"tools.md"}),
    ],
)
def test_filters_apply_to_every_retriever(
    store: CollectionStore, mode: Fusion, filters: Filters, expected_sources: set[str]
) -> None:
    hits = HybridRetriever(store, mode).retrieve("tool shed compost hours", 10, filters)
    assert hits and {Path(h.chunk.source).name for h in hits} == expected_sources
    if filters.section:
        assert all(
            (h.chunk.section or "").lower().startswith(filters.section.lower()) for h in hits
        )


@pytest.mark.integration
def test_exact_and_overfetch_dense_paths_agree(store: CollectionStore) -> None:
    filters = Filters(source="*garden.md")
    exact = HybridRetriever(store, "dense", exact_search_limit=10**6).retrieve(
        "compost", 3, filters
    )
    approx = HybridRetriever(store, "dense", exact_search_limit=0).retrieve("compost", 3, filters)
    assert [h.chunk.id for h in exact] == [h.chunk.id for h in approx]
    assert exact[0].scores["dense"] == pytest.approx(approx[0].scores["dense"], abs=1e-4)


def test_a_filter_matching_nothing_returns_nothing(store: CollectionStore) -> None:
    assert HybridRetriever(store).retrieve("shed", 5, Filters(doc_type="pdf")) == []


def test_filters_pass_through_the_chain(settings: Settings, store: CollectionStore) -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    chain = build_chain(settings, llm=FakeListChatModel(responses=["It opens at 8 am [1]."]))
    answer = chain.invoke(
        {"question": "When does the tool shed open?", "filters": {"doc_type": "html"}}
    )
    assert {Path(p.source).name for p in answer.contexts} == {"page.html"}
    with pytest.raises(ValueError, match="colour"):
        chain.invoke({"question": "q?", "filters": {"colour": "red"}})


@pytest.mark.parametrize("mode", ["rrf", "dense", "sparse"])
def test_picked_documents_restrict_every_retriever(
    store: CollectionStore, docs_dir: Path, mode: Fusion
) -> None:
    picked = [str((docs_dir / name).resolve()) for name in ("garden.md", "page.html")]
    hits = HybridRetriever(store, mode).retrieve(
        "tool shed compost hours", 10, Filters(sources=picked)
    )
    assert hits and {h.chunk.source for h in hits} == set(picked)


def test_picked_documents_are_exact_paths_not_globs(store: CollectionStore) -> None:
    assert store.state.child_ids_matching(Filters(sources=["*"])) == set()
    assert store.state.child_ids_matching(Filters(sources=[])) == set()
