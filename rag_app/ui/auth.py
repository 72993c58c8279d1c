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
import time
from collections.abc import Callable
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


FREE_FAILURES = 3
"""Wrong passwords a name may have in a row before its sign-ins are slowed down."""
MAX_WAIT_SECONDS = 900.0


@dataclass
class Backoff:
    """Slows down guessing one user's password: after `FREE_FAILURES` wrong passwords in a row
    for a name, a sign-in for it is refused unchecked until 2, 4, 8, ... seconds (at most a
    quarter of an hour) have passed since the last failure; a right password clears the count.
    Checks already run one at a time, but at ~0.2 s each that still allows thousands of
    guesses an hour at one name; with this, a few dozen. The cost is that someone who knows a
    name can make its owner wait, never lock them out for longer than the cap."""

    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)

    def wait(self, name: str) -> float:
        """Seconds before a sign-in for `name` will be checked (0: now)."""
        count, last = self._failures.get(name, (0, 0.0))
        if count < FREE_FAILURES:
            return 0.0
        pause = min(2.0 ** (count - FREE_FAILURES + 1), MAX_WAIT_SECONDS)
        return max(0.0, last + pause - self.clock())

    def failed(self, name: str) -> None:
        count, _ = self._failures.get(name, (0, 0.0))
        self._failures[name] = (count + 1, self.clock())

    def succeeded(self, name: str) -> None:
        self._failures.pop(name, None)


@dataclass(frozen=True)
class Access:
    """Who may do what on the page; `users` None means no sign-in, and whoever reaches the
    page is its editor."""

    users: UserStore | None = None
    _hashing: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)
    backoff: Backoff = field(default_factory=Backoff, repr=False, compare=False)

    async def sign_in(self, name: str, password: str) -> bool:
        """Gradio's `auth` callable: the login form and `gradio_client`'s `auth=` come here.
        A check costs ~0.2 s of CPU and 64 MiB, so it runs in a worker thread (answers keep
        streaming meanwhile) and one at a time (a flood of guesses waits in line instead of
        taking the memory); repeated wrong passwords for a name are slowed down (`Backoff`)."""
        if self.users is None:
            return False
        async with self._hashing:
            if (wait := self.backoff.wait(name)) > 0:
                log.warning("sign-in for %r refused unchecked: retry in %.0f s", name, wait)
                return False
            user = await asyncio.to_thread(self.users.verify, name, password)
            if user is None:
                self.backoff.failed(name)
            else:
                self.backoff.succeeded(name)
            return user is not None

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
