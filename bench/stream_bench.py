"""From the model to the browser: how long the first word of an answer takes from leaving the
LLM to showing on the chat page.

    python -m bench.stream_bench [--questions 10]

A real `rag serve` over the test corpus, asked through Debian's Chromium. The LLM is the tests'
scripted OpenAI-compatible endpoint with a 1 s "prefill" before the first word, which notes the
time that word left; the page notes (a MutationObserver) when it first shows. Both clocks are
this machine's. What lies between is the whole serving path: the chat model's stream, the chain,
Gradio's queue and its server-sent events, and the page's rendering. Each question is asked on a
fresh page, so no follow-up's condense request is counted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.common import part_main, timing
from rag_app.config import Settings
from tests.fakes import ScriptedOpenAI
from tests.ui.conftest import rag_serve
from tests.ui.test_browser import CHROMIUM_ARGS, _chromium

ANSWER = "Water the tomato beds every morning before 9 am [1]."
QUESTION = "When do I water the tomatoes?"
# Resolves nothing: notes when the newest answer first shows its first word.
WATCH_FIRST_WORD = """(word) => {
    window.firstShown = null;
    const observer = new MutationObserver(() => {
        const bots = document.querySelectorAll('#chatbot [data-testid="bot"]');
        const last = bots[bots.length - 1];
        if (last && last.innerText.includes(word)) {
            window.firstShown = Date.now() / 1000;
            observer.disconnect();
        }
    });
    observer.observe(
        document.querySelector("#chatbot"), {subtree: true, childList: true, characterData: true}
    );
}"""


def run(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    count = 2 if args.quick else args.questions
    delays: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="stream-bench-") as home,
        ScriptedOpenAI(lambda messages: ANSWER, delay=0.05, first_delay=1.0) as llm,
        rag_serve(
            Path(home),
            Settings().models_dir,
            "stream-bench",
            RAG_LLM_BACKEND="openai",
            RAG_LLM_BASE_URL=llm.url,
            RAG_LLM_MODEL="scripted",
        ) as url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        for _ in range(count + 1):  # the first warms the page's code and the server's models
            page = browser.new_page()
            page.goto(url, wait_until="load")
            page.locator("#chatbot").wait_for()
            page.evaluate(WATCH_FIRST_WORD, ANSWER.split()[0])
            page.locator("#question textarea").fill(QUESTION)
            page.locator("#ask").click()
            page.wait_for_function("window.firstShown !== null", timeout=60_000)
            delays.append(page.evaluate("window.firstShown") - llm.first_sent[-1])
            page.locator("#sources .rag-notice").wait_for(state="detached")  # answer done
            page.close()
        browser.close()
    kept = delays[1:]
    return {
        "questions": len(kept),
        "first_word_to_page": timing(kept),
        "max_ms": round(1000 * max(kept), 1),
        "median_ms": round(1000 * statistics.median(kept), 1),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--questions", type=int, default=10, help="questions asked (median)")


if __name__ == "__main__":
    part_main(run, __doc__, add_arguments)
