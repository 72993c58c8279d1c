from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from rag_app.config import Settings
from rag_app.errors import InvalidInput
from rag_app.store import DocumentRecord
from rag_app.types import Passage
from rag_app.ui.chat import Chat, Choices, SearchMode
from rag_app.ui.safe_markdown import message_html, message_text
from rag_app.ui.sources import CitedAnswers, clickable_citations, open_source
from tests.conftest import SHARED_DATA

PAPER = SHARED_DATA / "aragog" / "papers" / "bert.pdf"
ABSTRACT = "We introduce a new language representation model called BERT, which stands for"
MAX_BYTES = 50 * 10**6
HYBRID = Choices("default", SearchMode.HYBRID, rerank=False, top_k=5)


def record(path: Path, doc_type: str) -> dict[str, DocumentRecord]:
    return {str(path): DocumentRecord(str(path), "hash", 0.0, path.stem, doc_type)}


def test_a_click_opens_only_a_citation_of_this_sessions_answers() -> None:
    cited = CitedAnswers()
    passage = Passage(n=2, text="x", source="/docs/a.md")
    key = cited.add("default", [passage])
    assert cited.find(key, "2") == ("default", passage)
    for forged_key, n in [(key, "3"), ("0" * 16, "2"), (key, "/etc/passwd"), ("/etc/passwd", 2)]:
        with pytest.raises(InvalidInput, match="not one of this conversation's answers"):
            cited.find(forged_key, n)
    assert CitedAnswers().numbers(key) == set()  # another session knows nothing of it


def test_a_passage_whose_document_the_store_does_not_hold_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret\n\nnot in the collection")
    passage = Passage(n=1, text="not in the collection", source=str(secret))
    with pytest.raises(InvalidInput, match="no longer in the collection"):
        open_source(record(tmp_path / "other.md", "markdown"), passage, MAX_BYTES)


def test_a_markdown_source_opens_as_text_that_loads_nothing(tmp_path: Path) -> None:
    doc = tmp_path / "guide.md"
    doc.write_text(
        "# Guide\n\n## Setup\n\nRun **setup** first. ![x](http://203.0.113.7/p.png) "
        "[more](http://203.0.113.7/m) <img src='http://203.0.113.7/q.png'>\n"
    )
    passage = Passage(n=1, text="Run setup first.", source=str(doc), section="Guide > Setup")
    view = open_source(record(doc, "markdown"), passage, MAX_BYTES)
    assert view.image is None
    assert "<b>Guide &gt; Setup</b>" in view.html and "guide.md" in view.html
    assert "<strong>setup</strong>" in view.html  # the document, formatted
    assert "<img" not in view.html and "<a " not in view.html


def test_a_pdf_source_opens_its_page_marked() -> None:
    passage = Passage(n=1, text=ABSTRACT, source=str(PAPER), title="BERT", page=1)
    view = open_source(record(PAPER, "pdf"), passage, MAX_BYTES)
    assert view.image is not None and view.image.width > 500
    assert "Page 1, the passage marked in yellow." in view.html


def test_a_file_gone_from_its_path_says_so(tmp_path: Path) -> None:
    gone = tmp_path / "gone.pdf"
    passage = Passage(n=1, text="x", source=str(gone), page=1)
    view = open_source(record(gone, "pdf"), passage, MAX_BYTES)
    assert view.image is None and "no longer where it was ingested from" in view.html


def test_cited_numbers_become_buttons_and_the_history_keeps_their_text() -> None:
    shown = message_html("Open at 8 [1]. See [3]. `x[1]`")
    clickable = clickable_citations(shown, "abc123", {1})
    assert clickable.count('class="rag-cite rag-cite-abc123-1"') == 1  # not the one in code
    assert "See [3]." in clickable  # not a citation of this answer
    assert message_text(clickable) == message_text(shown)
    assert clickable_citations(shown, "", set()) == shown


def test_a_chat_answers_citation_opens_from_the_collections_store(ingested: Settings) -> None:
    chat = Chat(ingested, llm=FakeListChatModel(responses=["Before 9 am every morning [1]."]))
    cited = CitedAnswers()
    final = list(chat.ask("When do I water the tomatoes?", [], HYBRID, cited))[-1]
    assert final.key and f"rag-cite-{final.key}-1" in final.sources
    view = chat.open_source(cited, final.key, "1")
    assert "Turn the pile with the pitchfork" in view.html  # garden.md, read from its path
    with pytest.raises(InvalidInput):
        chat.open_source(cited, final.key, "2")
