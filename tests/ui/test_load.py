"""Several signed-in users asking a real `rag serve` at once, with more questions than it works
on at a time: each gets the answer to their own question in their own conversation. Timings
belong to `bench.ui_load_bench`, whose driver this runs; nothing here is timed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.ui_load_bench import ask_together
from rag_app.users import Role, UserStore
from tests.fakes import ScriptedOpenAI
from tests.ui.conftest import rag_serve
from tests.ui.test_browser_sources import citing_reply
from tests.ui.test_serve import QUESTIONS, text_of

USERS = [(f"user{i}", f"password {i}") for i in range(4)]


def echo(messages: list[dict[str, Any]]) -> str:
    """Names the question it was asked, so an answer shows whose it is, then cites passages
    as the browser tests' model does (an answer with no supported sentence is withheld)."""
    question = str(messages[-1]["content"]).rsplit("Question:", 1)[-1].split("\n\n")[0]
    return f"You asked: {question.strip()} {citing_reply(messages)}"


@pytest.mark.integration  # the server's bi-encoder is the real one
def test_simultaneous_users_each_get_their_own_answer(
    tmp_path: Path, shared_models_dir: Path, no_network: list[object]
) -> None:
    (tmp_path / "home").mkdir()
    store = UserStore(tmp_path / "home" / "users.json")
    for name, password in USERS:
        store.add(name, password, Role.READER)
    questions = QUESTIONS[: len(USERS)]
    with (
        ScriptedOpenAI(echo, delay=0.05) as llm,
        rag_serve(
            tmp_path / "home",
            shared_models_dir,
            "load",
            RAG_LLM_BACKEND="openai",
            RAG_LLM_BASE_URL=llm.url,
            RAG_LLM_MODEL="scripted",
            RAG_UI_CONCURRENCY_LIMIT="2",  # so some wait in the queue
        ) as url,
    ):
        asked = ask_together(url, USERS, questions)
    assert [a.problem() for a in asked] == [None] * len(USERS)
    for record, question in zip(asked, questions, strict=True):
        assert text_of(record.history[0]) == question
        assert f"You asked: {question}" in text_of(record.history[1])
    assert no_network == []
