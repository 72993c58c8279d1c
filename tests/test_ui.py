import urllib.request
from collections.abc import Iterator
from typing import Any

from langchain_core.runnables import RunnableGenerator

from rag_app.config import Settings
from rag_app.types import Answer, Passage
from rag_app.ui import build_app, launch, render, respond

CITED = Answer(
    question="q",
    text="Closed on Mondays [1].",
    citations=[
        Passage(
            n=1,
            text="The shed is closed on Mondays.",
            source="/d/tools.md",
            title="Tool Shed",
            section="Tool Shed > Opening hours",
        )
    ],
)


def fake_chain(answers: list[Answer]) -> Any:
    def stream(inputs: Iterator[Any]) -> Iterator[Answer]:
        for _ in inputs:
            pass
        yield from answers

    return RunnableGenerator(stream)


def test_render_lists_sources_and_escapes_html() -> None:
    shown = render(CITED.model_copy(update={"text": "<b>x</b> [1]"}))
    assert "**Sources**" in shown and "[1] Tool Shed &gt; Opening hours</summary>" in shown
    assert "The shed is closed on Mondays." in shown
    abstained = Answer(question="q", text="The documents do not answer this.", abstained=True)
    assert render(abstained) == "The documents do not answer this."


def test_respond_streams_then_shows_sources() -> None:
    partial = Answer(question="q", text="Closed", delta="Closed", complete=False)
    shown = list(respond(fake_chain([partial, CITED]), "When is it closed?", []))
    assert shown[0] == "Closed" and "**Sources**" in shown[-1]


def test_respond_turns_failures_into_messages() -> None:
    def broken(inputs: Iterator[Any]) -> Iterator[Answer]:
        raise RuntimeError("model crashed")
        yield  # pragma: no cover

    assert "went wrong" in list(respond(RunnableGenerator(broken), "q?", []))[-1]
    assert "type a question" in list(respond(fake_chain([]), "   ", []))[-1]


def test_the_page_is_served_on_loopback(settings: Settings) -> None:
    app = launch(build_app(settings, chain=fake_chain([CITED])), port=None, block=False)
    try:
        with urllib.request.urlopen(app.local_url, timeout=30) as page:
            assert page.status == 200 and "rag_app" in page.read().decode()
    finally:
        app.close()
