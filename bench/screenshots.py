"""The chat page's screenshots in docs/, taken again from the page as it is now.

    python -m bench.screenshots [--out docs]

A real `rag serve` with sign-in (an editor and a reader), over the tests' garden corpus and the
first two pages of the BERT paper, answered by the browser tests' scripted LLM so every picture
shows the same answers; Debian's Chromium at 1280x900, as in the browser tests. It lives beside
the benchmarks because it drives the page the same way `bench.stream_bench` does; it measures
nothing. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

from rag_app.config import Settings
from rag_app.users import Role, UserStore
from tests.conftest import FIXTURES, REPO
from tests.fakes import ScriptedOpenAI
from tests.ui.conftest import rag_serve
from tests.ui.test_browser import CHROMIUM_ARGS, TIMEOUT_MS, _chromium, ask, signed_in_page
from tests.ui.test_browser_sources import citing_reply, two_pages

VIEWPORT = {"width": 1280, "height": 900}
USERS = {"alice": Role.EDITOR, "bob": Role.READER}


def take(browser: Any, url: str, out: Path) -> list[Path]:
    """Sign-in form; the Library tab as a reader; a PDF citation opened; the document picker."""
    shots: list[Path] = []

    def shot(page: Any, name: str, **options: Any) -> None:
        shots.append(out / f"screenshot-{name}.png")
        page.screenshot(path=str(shots[-1]), **options)

    form = browser.new_context(viewport=VIEWPORT).new_page()
    form.goto(url, wait_until="load")
    form.get_by_label("username").fill("bob")
    shot(form, "sign-in", clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": 440})

    reader = signed_in_page(browser, url, "bob", VIEWPORT)
    reader.get_by_role("tab", name="Library").click()
    reader.locator("#documents .virtual-row", has_text="Tool Shed").wait_for()
    shot(reader, "reader")

    cited = signed_in_page(browser, url, "bob", VIEWPORT)
    ask(cited, "What does BERT stand for?", answers=1).locator(".rag-cite").click()
    cited.wait_for_function(
        "() => document.querySelector('#opened-page img')?.naturalWidth > 500", timeout=TIMEOUT_MS
    )
    cited.locator("#opened-page").evaluate("(image) => image.scrollIntoView({block: 'end'})")
    shot(cited, "pdf-source")

    picker = signed_in_page(browser, url, "alice", VIEWPORT)
    picker.locator("#ask-about").click()
    picker.locator("#ask-documents input").click()
    picker.get_by_role("option", name="Tool Shed").click()
    picker.locator("#searching-in", has_text="Searching in: tools.md").wait_for()
    ask(picker, "When is the tool shed closed?", answers=1)
    shot(picker, "picker")
    return shots


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "docs", help="folder for the PNGs")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as work:
        home = Path(work) / "home"
        home.mkdir()
        # Copied, so the paths the Library tab shows are short and nobody's checkout.
        corpus = Path(shutil.copytree(FIXTURES / "docs", Path(work) / "docs"))
        two_pages(corpus / "bert.pdf")
        users = UserStore(home / "users.json")
        for name, role in USERS.items():
            users.add(name, f"{name}'s password", role)
        with (
            ScriptedOpenAI(citing_reply) as llm,
            rag_serve(
                home,
                Settings().models_dir,
                "screenshots",
                corpus=corpus,
                RAG_LLM_BACKEND="openai",
                RAG_LLM_BASE_URL=llm.url,
                RAG_LLM_MODEL="scripted",
            ) as url,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
            for path in take(browser, url, args.out):
                print(path)
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
