"""Sources you can open and choosing what to ask about, in a real browser against a real
`rag serve` (as in test_browser.py, whose fixtures these tests share), over the fixture corpus
and two pages of the BERT paper."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.conftest import SHARED_DATA
from tests.fakes import ScriptedOpenAI
from tests.ui import test_browser
from tests.ui.conftest import rag_serve
from tests.ui.test_browser import ask, scripted_reply

pytestmark = pytest.mark.browser
browser = test_browser.browser
page = test_browser.page  # a fresh page on this module's `page_url`

PAPER = SHARED_DATA / "aragog" / "papers" / "bert.pdf"
BERT = "Bidirectional Encoder Representations from Transformers"


def citing_reply(messages: list[dict[str, Any]]) -> str:
    """test_browser's model, which also knows what BERT stands for, and otherwise repeats the
    longest sentence of every passage it was given, citing it."""
    prompt = str(messages[-1]["content"])
    reply = scripted_reply(messages)
    if "Standalone question:" in prompt:
        return reply
    passages = re.findall(r'<passage n="(\d+)">\n(.*?)\n</passage>', prompt, flags=re.DOTALL)
    for n, text in passages:
        if BERT in " ".join(text.split()):
            return f"BERT stands for {BERT} [{n}]."
    if reply.startswith("The documents do not answer") and passages:
        longest = [
            (n, max(re.split(r"(?<=\.)\s", " ".join(text.split())), key=len))
            for n, text in passages
        ]
        return " ".join(f"{sentence.rstrip('.')} [{n}]." for n, sentence in longest)
    return reply


def two_pages(target: Path) -> Path:
    """The paper's first two pages as a PDF of their own: quick to ingest."""
    import pypdfium2 as pdfium

    source = pdfium.PdfDocument(PAPER)
    pages = pdfium.PdfDocument.new()
    pages.import_pages(source, [0, 1])
    pages.save(target)
    return target


@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory, shared_models_dir: Path) -> Iterator[str]:
    test_browser._chromium()
    paper = two_pages(tmp_path_factory.mktemp("paper") / "bert.pdf")
    with (
        ScriptedOpenAI(citing_reply) as llm,
        rag_serve(
            tmp_path_factory.mktemp("sources-home"),
            shared_models_dir,
            "browser-sources",
            more=[paper],
            RAG_LLM_BACKEND="openai",
            RAG_LLM_BASE_URL=llm.url,
            RAG_LLM_MODEL="scripted",
        ) as url,
    ):
        yield url


def test_clicking_a_pdf_citation_shows_its_page_with_the_passage_marked(page: Any) -> None:
    answer = ask(page, "What does BERT stand for?", answers=1)
    assert answer.inner_text().strip() == f"BERT stands for {BERT} [1]."
    answer.locator(".rag-cite").click()
    image = page.locator("#opened-page img")
    image.wait_for()
    page.wait_for_function(
        "() => document.querySelector('#opened-page img').naturalWidth > 500", timeout=30_000
    )
    opened = page.locator("#opened-text").inner_text()
    assert "bert.pdf" in opened and "Page 1, the passage marked in yellow." in opened
    hosts = {urlparse(url).hostname for url in page.requested if url.startswith("http")}
    assert hosts == {"127.0.0.1"}, f"the page loaded something from elsewhere: {hosts}"


def test_a_markdown_citation_opens_its_document_as_text(page: Any) -> None:
    ask(page, "When do I water the tomatoes?", answers=1)
    page.locator('#sources .rag-source[data-n="1"] .rag-cite').click()
    opened = page.locator("#opened-text .rag-document")
    opened.wait_for()
    assert "Turn the pile with the pitchfork" in opened.inner_text()  # the whole document
    assert "every morning before 9 am" in page.locator("#opened-text blockquote").inner_text()
    assert page.locator("#opened-page img").count() == 0
    page.locator("#close-source").click()
    page.locator("#opened-source").wait_for(state="hidden")


def test_choosing_a_document_restricts_the_next_answer_to_it(page: Any) -> None:
    question = "What happens at the shed?"
    ask(page, question, answers=1)
    files = page.locator("#sources .rag-source .rag-file").all_inner_texts()
    assert {"tools.md", "garden.md"} <= set(files)  # both speak of the shed
    page.locator("#ask-about").click()
    page.locator("#ask-documents input").click()
    page.get_by_role("option", name=re.compile("Tool Shed")).click()
    page.locator("#searching-in", has_text="Searching in: tools.md").wait_for()
    ask(page, question, answers=2)
    files = page.locator("#sources .rag-source .rag-file").all_inner_texts()
    assert files and set(files) == {"tools.md"}


def test_a_forged_citation_opens_nothing(page: Any) -> None:
    """A button the server never sent: a key of no answer of this session."""
    page.wait_for_function("() => window.ragCiteListener")  # the panel is on the page
    page.evaluate(
        """() => {
            const forged = document.createElement('button');
            forged.className = 'rag-cite rag-cite-0123456789abcdef-1';
            forged.id = 'forged';
            forged.textContent = '[1]';
            document.querySelector('#sources').appendChild(forged);
        }"""
    )
    page.locator("#forged").click()
    toast = page.locator(".toast-body").first
    toast.wait_for()
    assert "not one of this conversation's answers" in toast.inner_text()
    assert page.locator("#opened-source").is_hidden()
