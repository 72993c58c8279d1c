"""The page as a server: loopback only, its API usable from gradio_client, and several users
served at once by a real `rag serve` with the real (tiny) local model."""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from rag_app.config import Settings
from rag_app.ui import build_app, launch
from rag_app.ui.chat import Chat
from rag_app.ui.safe_markdown import message_text
from tests.ui.conftest import rag_serve

QUESTIONS = [
    "When is the tool shed open?",
    "When do I water the tomatoes?",
    "What goes in the green bin?",
    "When does the garden committee meet?",
    "How often is the compost pile turned?",
    "Where do I write my name when I borrow a tool?",
    "When are the compost bins emptied?",
    "How much water does the rain barrel hold?",
    "Who may vote at the garden committee?",
    "When must the wheelbarrow be back?",
]


def ask_args(question: str) -> tuple[object, ...]:
    """The /ask endpoint's inputs: question, history, collection, mode, rerank, top-k."""
    return (question, [], "default", "hybrid", False, 3)


def text_of(message: dict[str, object]) -> str:
    """A message's text: the page (and so its API) sends messages as safe HTML."""
    content = message["content"]
    if isinstance(content, list):
        return " ".join(message_text(str(part["text"])) for part in content)
    return message_text(str(content))


def test_served_on_loopback_and_answers_through_the_client(
    ingested: Settings, no_network: list[object]
) -> None:
    from gradio_client import Client

    chat = Chat(ingested, llm=FakeListChatModel(responses=["Before 9 am [1]."]))
    app = launch(build_app(chat), ingested, port=None, block=False)
    try:
        assert urlparse(app.local_url).hostname == "127.0.0.1" and app.share_url is None
        assert app.local_url
        with urllib.request.urlopen(app.local_url, timeout=30) as page:
            html = page.read().decode()
        assert '"title":"rag_app"' in html
        assert not re.findall(r'(?:src|href)="https?://(?!127\.0\.0\.1)', html)
        client = Client(app.local_url, verbose=False)
        _, history, sources, debug = client.predict(
            *ask_args("When do I water the tomatoes?"), api_name="/ask"
        )
        assert text_of(history[-1]) == "Before 9 am [1]." and 'data-n="1"' in sources
        assert debug["headers"][3:7] == ["dense", "sparse", "fused", "rerank"]
    finally:
        app.close()
    assert no_network == []


def test_tuning_starts_through_the_api_and_the_page_reports_it(
    ingested: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gradio_client import Client

    def fake_tune(
        s: Settings, count: int, budget: float | None, on_stage: Callable[[str, str], None]
    ) -> dict[str, object]:
        on_stage("generating questions", f"7 of {count} kept")
        time.sleep(30)
        return {}

    monkeypatch.setattr("rag_app.tuning.tune_from_documents", fake_tune)
    chat = Chat(ingested, llm=FakeListChatModel(responses=["-"]))
    app = launch(build_app(chat), ingested, port=None, block=False)
    try:
        client = Client(app.local_url, verbose=False)
        note, *_ = client.predict("default", api_name="/tune")
        # The job has just started: its thread may not have reported its first stage yet.
        started = r"Tuning 'default': (starting|generating questions \(7 of 200 kept\))"
        assert re.search(started, note)
        assert "Reranker in use: none" in note
        with pytest.raises(Exception, match="already being tuned"):
            client.predict("default", api_name="/tune")
    finally:
        app.close()


@pytest.mark.integration
def test_ten_simultaneous_questions_are_all_answered(
    tmp_path: Path, shared_models_dir: Path, no_network: list[object]
) -> None:
    """Ten users at once through Gradio's queue: each gets an answer to its own question,
    although the one llama.cpp model writes one answer at a time."""
    from gradio_client import Client

    with rag_serve(
        tmp_path / "home",
        shared_models_dir,
        "concurrency",
        RAG_LLM_MODEL="smollm2-135m-instruct",
        RAG_LLM_MAX_TOKENS="24",
        RAG_CONTEXT_TOKEN_BUDGET="256",
        RAG_UI_CONCURRENCY_LIMIT="4",
    ) as url:
        client = Client(url, verbose=False)
        started = time.monotonic()
        jobs = [client.submit(*ask_args(q), api_name="/ask") for q in QUESTIONS]
        results = [job.result(timeout=600) for job in jobs]
        print(f"\n10 simultaneous questions answered in {time.monotonic() - started:.1f} s")
    for question, (_, history, _, _) in zip(QUESTIONS, results, strict=True):
        assert [m["role"] for m in history] == ["user", "assistant"]
        assert text_of(history[0]) == question
        answer = text_of(history[1])
        assert answer.strip() and "⚠️" not in answer, f"{question!r} got {answer!r}"
    assert no_network == []
