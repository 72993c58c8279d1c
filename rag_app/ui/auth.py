"""Sign-in and roles on the chat page.

With users in `RAG_HOME/users.json`, Gradio's own sign-in guards the page and every API route
(`launch(auth=...)`); each handler then checks the signed-in user's role itself, from
`request.username`, because hiding a button stops no one calling its endpoint. Without users the
page keeps to loopback, where the one person at the machine is its editor, unless `--no-auth`
shares it with anyone who can reach the port.

Conversations are not shared between users because the server keeps none: the history lives in
the browser tab's Chatbot value and comes with each question, and `Chat` holds only the loaded
models and the collection state (llama.cpp's prompt cache reuses computed states for identical
prompt prefixes only, so it changes no one's answer).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from dataclasses import dataclass, field

import gradio as gr

from rag_app.config import Settings
from rag_app.errors import InvalidInput
from rag_app.users import Role, UserStore

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


@dataclass(frozen=True)
class Access:
    """Who may do what on the page; `users` None means no sign-in, and whoever reaches the
    page is its editor."""

    users: UserStore | None = None
    _hashing: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)

    async def sign_in(self, name: str, password: str) -> bool:
        """Gradio's `auth` callable: the login form and `gradio_client`'s `auth=` come here.
        A check costs ~0.2 s of CPU and 64 MiB, so it runs in a worker thread (answers keep
        streaming meanwhile) and one at a time (a flood of guesses waits in line instead of
        taking the memory)."""
        if self.users is None:
            return False
        async with self._hashing:
            return await asyncio.to_thread(self.users.verify, name, password) is not None

    def role(self, request: gr.Request | None) -> Role | None:
        """The role of whoever sent `request`; None for someone the users file does not know
        (any more: a removed user's session still carries their name)."""
        if self.users is None:
            return Role.EDITOR
        name = request.username if request else None
        return self.users.role(name) if name else None

    def require(self, request: gr.Request | None, needed: Role) -> str | None:
        """The signed-in user's name (None without sign-in), for the audit log; refuses anyone
        whose role does not allow `needed`."""
        role = self.role(request)
        name = request.username if request else None
        if role is None:
            raise gr.Error(f"{name or 'Nobody'} may not use this page: sign in again.")
        if not role.may(needed):
            raise gr.Error(f"{name} is a {role}: only editors may add, delete or tune documents.")
        return name

    def describe(self, request: gr.Request | None) -> str:
        """Who is signed in, for the page's header."""
        role = self.role(request)
        if self.users is None or role is None or request is None:
            return ""
        return f"Signed in as `{request.username}` ({role})"


def page_access(settings: Settings, host: str, no_auth: bool) -> Access:
    """The page's access for `rag serve --host HOST`: sign-in when users exist; none on
    loopback without them; refused on a shared address without them, unless `no_auth`."""
    if no_auth:
        log.warning(
            "WARNING: serving on %s with sign-in switched off (--no-auth): anyone who can "
            "reach the port may read, add and delete documents",
            host,
        )
        return Access()
    store = UserStore(settings.users_file)
    if store.users():
        return Access(store)
    if not is_loopback(host):
        raise InvalidInput(
            f"--host {host}: refusing to share the page without sign-in; add users first "
            "(`rag users add NAME --role editor`), or pass --no-auth to let anyone who can "
            "reach the port read, add and delete documents"
        )
    return Access()
