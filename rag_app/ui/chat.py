"""Answering on the chat page: one set of loaded parts per collection, the user's retrieval
choices applied per question, failures turned into messages."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Unpack

from rag_app.chain.rag import AnswerStage, Components, Overrides, compose
from rag_app.config import Fusion, Settings
from rag_app.errors import is_user_fixable, one_line
from rag_app.retrieval.hybrid import EmptyCollectionError
from rag_app.types import Answer, Filters
from rag_app.ui.render import debug_rows, marked_answer, notice_html, sources_html
from rag_app.ui.safe_markdown import message_text
from rag_app.ui.sources import CitedAnswers, SourceView, open_source

log = logging.getLogger(__name__)


class SearchMode(StrEnum):
    """The chat page's retrieval choice, in the words its users see."""

    HYBRID = "hybrid"
    DENSE = "dense"
    BM25 = "bm25"

    def fusion(self, configured: Fusion) -> Fusion:
        """Hybrid keeps the configured fusion (alpha or RRF, the default when the
        configuration picked one retriever alone); the others pick one retriever."""
        if self is SearchMode.DENSE:
            return Fusion.DENSE
        if self is SearchMode.BM25:
            return Fusion.SPARSE
        return configured if configured.hybrid else Fusion(Settings.model_fields["fusion"].default)


@dataclass(frozen=True)
class Choices:
    """The settings panel: how to retrieve for one question."""

    collection: str
    mode: SearchMode
    rerank: bool
    top_k: int
    filters: Filters | None = None
    """What to ask about: the documents picked, a section; None searches everything."""

    def updates(self, settings: Settings) -> dict[str, Any]:
        return {
            "fusion": SearchMode(self.mode).fusion(settings.fusion),
            "rerank": self.rerank,
            "top_k": int(self.top_k),
        }


@dataclass(frozen=True)
class Turn:
    """What the page shows while and after answering one question."""

    text: str
    sources: str
    debug: list[list[str]] = field(default_factory=list)
    answer: Answer | None = None
    """The finished answer (None while it is written, and on failure): what a rating rates."""
    key: str = ""
    """The answer's key among the session's `CitedAnswers`: its `[n]` open their sources."""


def chain_history(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Gradio's chat messages (content a string or a list of typed parts, shown as HTML) as
    the chain's plain text."""
    history = []
    for message in messages:
        content = message.get("content", "")
        if isinstance(content, list):
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        role = str(message.get("role", "user"))
        history.append({"role": role, "content": message_text(str(content))})
    return history


class Chat:
    """Answers questions for every user of the page; parts are loaded once per collection."""

    def __init__(self, settings: Settings, **overrides: Unpack[Overrides]) -> None:
        self.settings = settings
        self.overrides = overrides
        self._parts: dict[str, Components] = {}
        self._lock = threading.Lock()

    def parts(self, collection: str) -> Components:
        with self._lock:
            if collection not in self._parts:
                settings = self.settings.updated(collection=collection)
                self._parts[collection] = Components(settings, **self.overrides)
            return self._parts[collection]

    def warm_up(self, collection: str) -> None:
        """Load the models before the first question, so it is not the one that waits; a
        model that cannot load is logged here and reported to whoever asks."""
        parts = self.parts(collection)
        try:
            parts.store.embedder.warm_up()
            if parts.settings.rerank:
                _ = parts.shared.reranker
            AnswerStage(parts).warm_up()
        except Exception as err:
            if not is_user_fixable(err):
                raise
            log.warning("model not loaded at start-up: %s", one_line(err))

    def ask(
        self,
        question: str,
        history: list[dict[str, Any]],
        choices: Choices,
        cited: CitedAnswers | None = None,
    ) -> Iterator[Turn]:
        """Partial answers as the model writes them, then the checked answer with its sources,
        its citations kept in the session's `cited`. Never raises: a failure becomes the last
        Turn's message, and the server carries on."""
        question = question.strip()
        if not question:
            yield Turn("", notice_html("Please type a question first."))
            return
        yield Turn("", notice_html("Searching the documents…"))
        text = ""
        try:
            base = self.parts(choices.collection)
            chain = compose(base.with_settings(**choices.updates(base.settings)))
            filters = choices.filters.model_dump(exclude_none=True) if choices.filters else None
            inputs = {"question": question, "history": chain_history(history), "filters": filters}
            for answer in chain.stream(inputs):
                text = answer.text
                if answer.complete:
                    shown = marked_answer(answer)
                    key = (
                        cited.add(choices.collection, answer.citations)
                        if cited is not None and answer.citations
                        else ""
                    )
                    sources = sources_html(answer, key)
                    yield Turn(shown, sources, debug_rows(answer.retrieved), answer, key)
                else:
                    yield Turn(text, notice_html("Writing the answer…"))
        except Exception as err:
            message = self._failure(err, choices.collection)
            yield Turn(f"{text}\n\n{message}".strip(), notice_html(message))

    def open_source(self, cited: CitedAnswers, key: object, n: object) -> SourceView:
        """Citation `n` of the session's answer `key`, opened from its collection's store."""
        collection, passage = cited.find(key, n)
        records = self.parts(collection).store.documents()
        return open_source(records, passage, int(self.settings.max_file_mb * 1e6))

    def _failure(self, err: Exception, collection: str) -> str:
        if isinstance(err, EmptyCollectionError):
            return (
                f"⚠️ Collection '{collection}' has no documents yet. Add some on the Library "
                "tab (or with `rag ingest PATH`), then ask again."
            )
        if is_user_fixable(err):
            log.warning("question not answered: %s", one_line(err))
            return f"⚠️ {one_line(err)}"
        log.exception("answering failed")
        return (
            f"⚠️ Sorry, answering failed ({type(err).__name__}: {one_line(err)[:200]}). The "
            "server is still running: try again, and see its log for details."
        )
