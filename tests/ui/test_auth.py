"""Sign-in and roles on a real `launch()` on loopback, through `gradio_client` as any script
would call the page's API: the server, not the page, is what refuses a reader."""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from rag_app.audit import entries
from rag_app.config import Settings
from rag_app.errors import InvalidInput
from rag_app.ui import build_app, launch
from rag_app.ui.auth import (
    FREE_FAILURES,
    MAX_WAIT_SECONDS,
    Access,
    Backoff,
    is_loopback,
    page_access,
)
from rag_app.ui.chat import Chat
from rag_app.users import Role, UserStore
from tests.ui.test_serve import ask_args, text_of

BEES = "# Bee Keeping\n\n## Hives\n\nThe hives are checked every Friday by the bee team.\n"
EDITOR = ("alice", "alice's password")
READER = ("bob", "bob's password")


@pytest.fixture
def store(ingested: Settings) -> UserStore:
    store = UserStore(ingested.users_file)
    store.add(*EDITOR, Role.EDITOR)
    store.add(*READER, Role.READER)
    return store


@pytest.fixture
def url(ingested: Settings, store: UserStore) -> Iterator[str]:
    access = Access(store)
    chat = Chat(ingested, llm=FakeListChatModel(responses=["Before 9 am [1]."]))
    app = launch(build_app(chat, access), ingested, port=None, block=False, access=access)
    try:
        yield app.local_url
    finally:
        app.close()


def client(url: str, user: tuple[str, str] | None) -> Any:
    from gradio_client import Client

    return Client(url, verbose=False, auth=user)


def test_nobody_gets_in_without_a_valid_sign_in(url: str) -> None:
    json = {"Content-Type": "application/json"}
    for request in (
        urllib.request.Request(f"{url}config"),
        *(
            urllib.request.Request(f"{url}gradio_api/{path}", b'{"data": []}', json)
            for path in ("call/ask", "call/upload", "upload")
        ),
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 401, request.full_url
    for user in (None, ("alice", "bob's password"), ("mallory", "alice's password")):
        with pytest.raises(Exception):  # noqa: B017 (the client raises ValueError or httpx's)
            client(url, user)


def test_a_reader_asks_but_cannot_change_the_library(
    url: str, ingested: Settings, tmp_path: Path
) -> None:
    from gradio_client import handle_file

    reader = client(url, READER)
    _, history, sources, _ = reader.predict(*ask_args("When do I water?"), api_name="/ask")
    assert [text_of(m) for m in history] == ["When do I water?", "Before 9 am [1]."]
    assert 'data-n="1"' in sources
    (tmp_path / "bees.md").write_text(BEES)
    before = sorted(p.name for p in ingested.home.rglob("*"))
    calls = {
        "/upload": ([handle_file(str(tmp_path / "bees.md"))], "default"),
        # Nothing chosen: Gradio itself refuses a document not offered in this session.
        "/delete": ([], "default"),
        "/tune": ("default",),
    }
    for endpoint, args in calls.items():
        with pytest.raises(Exception, match="bob is a reader: only editors may"):
            reader.predict(*args, api_name=endpoint)
    assert sorted(p.name for p in ingested.home.rglob("*")) == before
    assert list(entries(ingested.audit_log)) == []


def test_an_editor_changes_the_library_and_each_change_is_audited(
    url: str, ingested: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gradio_client import handle_file

    def fake_tune(s: Settings, count: int, budget: float | None, on_stage):  # type: ignore[no-untyped-def]
        time.sleep(5)
        return {}

    monkeypatch.setattr("rag_app.tuning.tune_from_documents", fake_tune)
    editor = client(url, EDITOR)
    (tmp_path / "bees.md").write_text(BEES)
    _, results, documents, _ = editor.predict(
        [handle_file(str(tmp_path / "bees.md"))], "default", api_name="/upload"
    )
    assert results["data"] == [["bees.md", "ingested", "1 chunk"]]
    bees = next(row[3] for row in documents["data"] if row[2] == "bees.md")
    results, *_ = editor.predict([bees], "default", api_name="/delete")
    assert results["data"] == [["bees.md", "removed", "removed from the collection"]]
    note, *_ = editor.predict("default", api_name="/tune")
    assert "Tuning 'default'" in note
    logged = [(e.user, e.action, e.collection, e.what) for e in entries(ingested.audit_log)]
    assert logged == [
        ("alice", "upload", "default", ["bees.md: ingested"]),
        ("alice", "delete", "default", ["bees.md: removed"]),
        ("alice", "tune", "default", ["tuning started"]),
    ]


def test_a_removed_user_loses_access_at_once(url: str, store: UserStore) -> None:
    reader = client(url, READER)
    store.remove("bob")
    with pytest.raises(Exception, match="bob may not use this page: sign in again"):
        reader.predict(*ask_args("When do I water?"), api_name="/ask")


def test_loopback_is_told_from_shared_addresses() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.1.2.3", "::1", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.168.1.4", "my-host"]))


def test_serving_needs_users_on_a_shared_address_unless_told_otherwise(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    assert page_access(settings, "127.0.0.1", no_auth=False).users is None
    with pytest.raises(InvalidInput, match=r"--host 0\.0\.0\.0: refusing to share the page"):
        page_access(settings, "0.0.0.0", no_auth=False)
    with caplog.at_level(logging.WARNING):
        assert page_access(settings, "0.0.0.0", no_auth=True).users is None
    assert "sign-in switched off (--no-auth)" in caplog.text
    UserStore(settings.users_file).add("alice", "pw", Role.READER)
    for host in ("127.0.0.1", "0.0.0.0"):
        access = page_access(settings, host, no_auth=False)
        assert access.users is not None and asyncio.run(access.sign_in("alice", "pw"))
        assert not asyncio.run(access.sign_in("alice", "wrong"))


def test_repeated_wrong_passwords_slow_down_that_name_only(settings: Settings) -> None:
    now = [1000.0]
    users = UserStore(settings.users_file)
    users.add("alice", "pw", Role.READER)
    users.add("bob", "pw", Role.READER)
    access = Access(users, backoff=Backoff(clock=lambda: now[0]))

    def sign_in(name: str, password: str) -> bool:
        return asyncio.run(access.sign_in(name, password))

    for _ in range(FREE_FAILURES - 1):
        assert not sign_in("alice", "guess")
    assert sign_in("alice", "pw")  # the free failures cost nothing, and a success clears them
    for _ in range(FREE_FAILURES + 2):
        assert not sign_in("alice", "guess")  # the last two were refused unchecked
    assert access.backoff.wait("alice") == 2.0
    assert not sign_in("alice", "pw")  # even the right password waits its turn
    assert sign_in("bob", "pw")  # other names are not slowed
    now[0] += 2.0
    assert sign_in("alice", "pw") and access.backoff.wait("alice") == 0.0
    for _ in range(FREE_FAILURES + 20):
        access.backoff.failed("alice")
    assert access.backoff.wait("alice") == MAX_WAIT_SECONDS
