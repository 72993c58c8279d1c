"""The Gradio chat page: streamed answers with their sources listed under them."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from typing import Any

from langchain_core.runnables import Runnable

from rag_app.config import Settings, get_settings
from rag_app.types import Answer

log = logging.getLogger(__name__)


def _content_text(content: Any) -> str:
    """Gradio 6 history content is a string or a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content)


def _history(history: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {"role": str(m.get("role", "user")), "content": _content_text(m.get("content", ""))}
        for m in history
    ]


def render(answer: Answer) -> str:
    """Answer text followed by a collapsible sources list (Markdown with a little HTML)."""
    if answer.abstained or not answer.citations:
        return answer.text
    items = []
    for c in answer.citations:
        items.append(
            f"<details><summary>[{c.n}] {html.escape(c.heading)}</summary>\n\n"
            f"<small>{html.escape(c.source)}</small>\n\n{html.escape(c.text)}\n\n</details>"
        )
    return answer.text + "\n\n**Sources**\n\n" + "\n".join(items)


def respond(
    chain: Runnable[Any, Answer], message: str, history: list[dict[str, Any]]
) -> Iterator[str]:
    question = message.strip()
    if not question:
        yield "Please type a question."
        return
    try:
        for answer in chain.stream({"question": question, "history": _history(history)}):
            yield answer.text if not answer.complete else render(answer)
    except LookupError as err:  # empty collection
        yield f"No documents yet: {err}"
    except Exception:
        log.exception("answering failed")
        yield "Sorry, something went wrong while answering. The details are in the server log."


def build_app(settings: Settings | None = None, chain: Runnable[Any, Answer] | None = None) -> Any:
    import gradio as gr

    from rag_app.chain.rag import build_chain

    settings = settings or get_settings()
    rag_chain = chain or build_chain(settings)

    def reply(message: str, history: list[dict[str, Any]]) -> Iterator[str]:
        yield from respond(rag_chain, message, history)

    return gr.ChatInterface(
        reply,
        title="rag_app",
        description=f"Ask about the documents in collection **{settings.collection}**. "
        "Answers cite their sources as [n].",
        analytics_enabled=False,
        flagging_mode="never",
        concurrency_limit=2,
    )


def launch(app: Any, host: str = "127.0.0.1", port: int | None = 7860, block: bool = True) -> Any:
    """Serve on loopback by default; never a share link (it would tunnel out to a hub)."""
    app.queue().launch(
        server_name=host,
        server_port=port,
        share=False,
        inbrowser=False,
        quiet=not block,
        prevent_thread_lock=not block,
    )
    return app


def serve(settings: Settings | None = None, host: str = "127.0.0.1", port: int = 7860) -> None:
    launch(build_app(settings), host, port)
