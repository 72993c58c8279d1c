"""RagRetriever: LangChain's standard retriever suite, and what it adds over it."""

from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import RetrieversIntegrationTests

from rag_app import RagRetriever
from rag_app.config import Settings

QUESTION = "When do I water the tomatoes?"


class TestRagRetrieverStandard(RetrieversIntegrationTests):
    """k in the constructor and per call, invoke and ainvoke, over the ingested fixture docs."""

    @pytest.fixture(autouse=True)
    def _collection(self, ingested: Settings) -> None:
        self.settings = ingested

    @property
    def retriever_constructor(self) -> type[RagRetriever]:
        return RagRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"settings": self.settings}

    @property
    def retriever_query_example(self) -> str:
        return QUESTION


def test_documents_carry_their_place_and_scores(ingested: Settings) -> None:
    docs = RagRetriever(k=2, settings=ingested).invoke(QUESTION)
    assert len(docs) == 2 and all(isinstance(d, Document) for d in docs)
    top = docs[0]
    assert top.metadata["section"] == "Gardening Handbook > Watering"
    assert top.metadata["source"].endswith("garden.md")
    assert "tomato" in top.page_content.lower()
    assert top.metadata["parent_id"] and top.id
    assert {"dense", "sparse", "fused"} <= set(top.metadata["scores"])
    assert top.metadata["score"] == top.metadata["scores"]["fused"]
    assert top.metadata["confident"] is True and top.metadata["gate"] == "dense"


def test_it_returns_what_the_chat_reads(ingested: Settings) -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from rag_app.chain.rag import build_chain

    llm = FakeListChatModel(responses=["Every morning [1]."])
    answer_hits = build_chain(ingested, llm=llm).invoke(QUESTION).retrieved
    docs = RagRetriever(settings=ingested).invoke(QUESTION)
    assert [d.id for d in docs] == [h.chunk.id for h in answer_hits]


def test_filters_restrict_the_search(ingested: Settings) -> None:
    everything = RagRetriever(k=5, settings=ingested).invoke(QUESTION)
    assert len({d.metadata["source"] for d in everything}) > 1
    only = RagRetriever(k=5, settings=ingested, filters={"source": "*garden*"}).invoke(QUESTION)
    assert only and all("garden" in d.metadata["source"] for d in only)
    per_call = RagRetriever(k=5, settings=ingested).invoke(QUESTION, filters={"source": "*garden*"})
    assert [d.id for d in per_call] == [d.id for d in only]


def test_a_bad_k_is_refused() -> None:
    with pytest.raises(ValueError, match="k"):
        RagRetriever(k=0)
