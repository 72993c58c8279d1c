from pathlib import Path

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from rag_app.config import Settings
from rag_app.types import Filters
from rag_app.ui.chat import Chat, Choices, SearchMode
from rag_app.ui.scope import describe_scope, scope_filters


def test_nothing_picked_searches_everything() -> None:
    assert scope_filters([], "  ") is None and scope_filters(None, "") is None
    assert describe_scope(None) == "Searching in: all documents"


def test_picked_documents_and_section_become_the_filters_rag_ask_sets() -> None:
    filters = scope_filters(["/d/garden.md", "/d/guide/tools.md"], " Tool Shed > Opening ")
    assert filters == Filters(
        sources=["/d/garden.md", "/d/guide/tools.md"], section="Tool Shed > Opening"
    )
    assert describe_scope(filters) == (
        "Searching in: sections starting “Tool Shed > Opening” of garden.md, tools.md"
    )
    many = Filters(sources=[f"/d/{i}.md" for i in range(8)])
    assert describe_scope(many) == "Searching in: 0.md, 1.md, 2.md, 3.md, 4.md, 3 more"


def test_the_picked_document_is_all_the_chat_retrieves(ingested: Settings, docs_dir: Path) -> None:
    chat = Chat(ingested, llm=FakeListChatModel(responses=["It is closed on Mondays [1]."]))
    garden = str((docs_dir / "garden.md").resolve())
    question = "When is the tool shed closed?"
    everything = list(chat.ask(question, [], Choices("default", SearchMode.HYBRID, False, 5)))
    assert "Tool Shed" in {row[1] for row in everything[-1].debug}
    picked = Choices("default", SearchMode.HYBRID, False, 5, scope_filters([garden], ""))
    rows = list(chat.ask(question, [], picked))[-1].debug
    assert rows and {row[1] for row in rows} == {"Gardening Handbook"}
