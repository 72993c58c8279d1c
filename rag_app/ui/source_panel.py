"""The chat page's sources column beyond the cited list: the source a click on `[n]` opened,
and the picker of what the next questions ask about. Built inside the column by `app`, and
wired to the same `Chat` as the questions."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag_app.ui.auth import Access
from rag_app.ui.chat import Chat
from rag_app.ui.scope import describe_scope, scope_filters
from rag_app.ui.sources import CitedAnswers
from rag_app.users import Role


@dataclass
class OpenedSource:
    box: gr.Column
    text: gr.HTML
    page: gr.Image
    close: gr.Button


@dataclass
class AskAbout:
    searching_in: gr.Markdown
    documents: gr.Dropdown
    section: gr.Textbox


def searching_in() -> gr.Markdown:
    return gr.Markdown(describe_scope(None), elem_id="searching-in")


def opened_source() -> OpenedSource:
    """Hidden until a citation is clicked."""
    with gr.Column(visible=False, elem_id="opened-source") as box:
        text = gr.HTML(js_on_load=None, elem_id="opened-text")
        page = gr.Image(
            label="Cited page",
            type="pil",
            format="png",
            interactive=False,
            buttons=["fullscreen"],
            visible=False,
            elem_id="opened-page",
        )
        close = gr.Button("Close", size="sm", elem_id="close-source")
    return OpenedSource(box, text, page, close)


def ask_about(shown: gr.Markdown) -> AskAbout:
    with gr.Accordion("Choose what to ask about", open=False, elem_id="ask-about"):
        # Initial values make both optional for the page's API (`/ask`).
        documents = gr.Dropdown(
            value=[],
            multiselect=True,
            label="Documents",
            info="Only these are searched; none picked: all of them.",
            elem_id="ask-documents",
        )
        section = gr.Textbox(
            value="",
            label="Section",
            placeholder="Heading path prefix, e.g. “Tool Shed > Opening”",
            elem_id="ask-section",
        )
    return AskAbout(shown, documents, section)


def document_choices(rows: list[list[str]], picked: list[str] | None) -> Any:
    """The picker over the collection's documents (rows: title, type, file, source), keeping
    what is picked and still there."""
    choices = [(f"{title} ({file})", source) for title, _, file, source in rows]
    still = [source for source in picked or [] if source in {s for _, s in choices}]
    return gr.Dropdown(choices=choices, value=still)


def wire(
    chat: Chat,
    access: Access,
    sources: gr.HTML,
    cited: gr.State,
    opened: OpenedSource,
    scope: AskAbout,
    closing: list[Any],
    friendly: Callable[[str], AbstractContextManager[None]],
) -> None:
    """A click on a citation opens its source, and the `closing` events (a new conversation,
    another collection) close it; the picker says what the next questions search. `friendly`
    turns a failure into the page's message box."""

    def open_cited(answers: CitedAnswers, request: gr.Request, event: gr.EventData) -> Any:
        access.require(request, Role.READER)
        with friendly("Opening the source"):
            view = chat.open_source(
                answers, getattr(event, "answer", None), getattr(event, "n", None)
            )
        return (
            gr.Column(visible=True),
            view.html,
            gr.Image(value=view.image, visible=view.image is not None),
        )

    sources.cite(  # the event CITE_JS triggers
        open_cited,
        cited,
        [opened.box, opened.text, opened.page],
        api_visibility="private",
    )
    gr.on(
        [opened.close.click, *closing],
        lambda: gr.Column(visible=False),
        None,
        opened.box,
        api_visibility="private",
    )

    def describe(documents: list[str] | None, section: str) -> str:
        return describe_scope(scope_filters(documents, section))

    gr.on(
        [scope.documents.change, scope.section.change],
        describe,
        [scope.documents, scope.section],
        scope.searching_in,
        api_visibility="private",
    )
