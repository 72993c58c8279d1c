"""Rating answers through the page's own handlers, as Gradio calls them: the session's record
of what it showed decides what is stored, and the caller's sign-in who stored it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from rag_app.config import Settings
from rag_app.feedback import ratings
from rag_app.ui import build_app
from rag_app.ui.auth import Access
from rag_app.ui.chat import Chat
from rag_app.ui.feedback import Ratings
from rag_app.ui.sources import CitedAnswers
from rag_app.users import Role, UserStore

Handlers = dict[str, Callable[..., Any]]


def handlers(settings: Settings, access: Access | None = None) -> Handlers:
    chat = Chat(settings, llm=FakeListChatModel(responses=["Before 9 am [1].", "I cannot say."]))
    app = build_app(chat, access)
    return {f.api_name: f.fn for f in app.fns.values() if isinstance(f.api_name, str) and f.fn}


def ask(page: Handlers, question: str, session: Ratings, user: str | None) -> list[Any]:
    """The conversation after the answer, as the page shows it."""
    *_, (_, history, _, _, _) = page["ask"](
        question,
        [],
        "default",
        "hybrid",
        False,
        3,
        None,
        "",
        CitedAnswers(),
        session,
        gr.Request(username=user),
    )
    return list(history)


def like(index: int, liked: bool | str) -> gr.LikeData:
    return gr.LikeData(None, {"index": index, "value": ["forged"], "liked": liked})


def test_a_thumb_stores_the_answer_the_session_showed(ingested: Settings) -> None:
    page, session = handlers(ingested), Ratings()
    history = ask(page, "When do I water the tomatoes?", session, None)
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert session.thumbs(history) == [None]
    page["rate"](session, like(1, False), gr.Request())
    assert session.thumbs(history) == ["Dislike"]  # shown again when the page redraws
    page["note"]("  Too vague. ", session, gr.Request())
    [stored] = ratings(ingested.feedback_file)
    assert (stored.user, stored.collection, stored.rating, stored.note) == (
        None,
        "default",
        "down",
        "Too vague.",
    )
    assert stored.question == stored.asked == "When do I water the tomatoes?"
    assert stored.answer == "Before 9 am [1]."
    [cited] = stored.cited  # from the server's answer: the browser's "forged" value is unused
    assert cited.source.endswith("garden.md") and "9 am" in cited.text and cited.chunk_id
    page["rate"](session, like(1, True), gr.Request())  # changed: the note stays with it
    [stored] = ratings(ingested.feedback_file)
    assert (stored.rating, stored.note) == ("up", "Too vague.")
    page["rate"](session, like(1, ""), gr.Request())  # taken back
    assert ratings(ingested.feedback_file) == []


def test_only_finished_answers_of_this_conversation_can_be_rated(ingested: Settings) -> None:
    page, session = handlers(ingested), Ratings()
    with pytest.raises(gr.Error, match="Rate an answer"):
        page["note"]("A note.", session, gr.Request())
    ask(page, "When do I water the tomatoes?", session, None)
    for index in (0, 3):  # the question, a message never shown
        with pytest.raises(gr.Error, match="Only a finished answer can be rated"):
            page["rate"](session, like(index, True), gr.Request())
    page["rate"](session, like(1, False), gr.Request())
    ask(page, "Anything else?", session, None)  # a new conversation: index 1 is a new answer
    with pytest.raises(gr.Error, match="Rate an answer"):  # the rated one is gone
        page["note"]("A note.", session, gr.Request())
    page["rate"](session, like(1, True), gr.Request())
    assert [(r.question, r.rating) for r in ratings(ingested.feedback_file)] == [
        ("When do I water the tomatoes?", "down"),
        ("Anything else?", "up"),
    ]


def test_readers_and_editors_rate_under_their_names(ingested: Settings) -> None:
    users = UserStore(ingested.users_file)
    users.add("alice", "alice's password", Role.EDITOR)
    users.add("bob", "bob's password", Role.READER)
    page = handlers(ingested, Access(users))
    for name in ("alice", "bob"):
        session = Ratings()
        ask(page, "When do I water the tomatoes?", session, name)
        page["rate"](session, like(1, name == "alice"), gr.Request(username=name))
    assert [(r.user, r.rating) for r in ratings(ingested.feedback_file)] == [
        ("alice", "up"),
        ("bob", "down"),
    ]
    users.remove("bob")
    with pytest.raises(gr.Error, match="bob may not use this page"):
        page["rate"](session, like(1, True), gr.Request(username="bob"))
