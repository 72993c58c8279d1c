"""Who may use a shared chat page: user names, their roles and their hashed passwords, in one
JSON file under `home` (`rag users` manages it, `rag serve` checks sign-ins against it).

Passwords are hashed with Argon2id through argon2-cffi rather than the standard library's
scrypt: it is the first choice of RFC 9106 and OWASP, and its encoded hash carries its own salt
and cost parameters, so there is no home-made format to parse or compare in constant time.

The file is read afresh on every check, so `rag users add` and `rag users remove` take effect on
a running server without a restart (a removed user loses access at their next request).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, ValidationError

from rag_app.errors import InvalidInput, UserError
from rag_app.files import first_problem

NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
NAME_HELP = "1 to 64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit"


class Role(StrEnum):
    """A reader asks questions; an editor also changes the library (upload, delete, tune)."""

    READER = "reader"
    EDITOR = "editor"

    def may(self, needed: Role) -> bool:
        return self is Role.EDITOR or needed is Role.READER


@dataclass(frozen=True)
class User:
    name: str
    role: Role


class UnknownUser(UserError):
    """A name that is not in the users file."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    hash: str


class _UsersFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    users: dict[str, _Entry]


@cache
def _hasher() -> PasswordHasher:
    """argon2-cffi's defaults: RFC 9106's low-memory profile (Argon2id, 64 MiB, 3 passes)."""
    return PasswordHasher()


@cache
def _decoy_hash() -> str:
    """Checked against for an unknown name, so a sign-in takes as long whether or not the
    name exists and the timing does not tell which names do."""
    return _hasher().hash("not a password of anyone")


def check_name(name: str) -> str:
    if not NAME_RULE.match(name):
        raise InvalidInput(f"user name {name!r}: use {NAME_HELP}")
    return name


class UserStore:
    """The users file at `path`. A file that cannot be read as one is an error naming it, and
    is never replaced: a mistake in it must not silently lock everyone out, or let them in."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def users(self) -> list[User]:
        """Every user, by name; none when the file does not exist yet."""
        return [User(name, entry.role) for name, entry in sorted(self._read().items())]

    def role(self, name: str) -> Role | None:
        entry = self._read().get(name)
        return entry.role if entry else None

    def verify(self, name: str, password: str) -> User | None:
        """The user, when the password is theirs."""
        entry = self._read().get(name)
        try:
            _hasher().verify(entry.hash if entry else _decoy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        return User(name, entry.role) if entry else None

    def add(self, name: str, password: str, role: Role, replace: bool = False) -> User:
        """Add a user; with `replace`, an existing user gets the new password and role."""
        check_name(name)
        if not password:
            raise InvalidInput("password: it is empty")
        with self._changing() as users:
            if name in users and not replace:
                raise InvalidInput(
                    f"user {name!r} already exists in {self.path}: `rag users add {name} "
                    "--replace` sets a new password and role"
                )
            users[name] = _Entry(role=role, hash=_hasher().hash(password))
        return User(name, role)

    def remove(self, name: str) -> None:
        with self._changing() as users:
            if users.pop(name, None) is None:
                raise UnknownUser(f"user {name!r}: no such user in {self.path}")

    @contextmanager
    def _changing(self) -> Iterator[dict[str, _Entry]]:
        """The users to change, written back when the block ends without an error. Two `rag
        users` commands at once take turns (an exclusive lock on a file beside the users
        file), so neither writes over the other's change."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(f".{self.path.name}.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            users = self._read()
            yield users
            self._write(users)

    def _read(self) -> dict[str, _Entry]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            users = _UsersFile.model_validate_json(text).users
        except ValidationError as err:
            raise InvalidInput(
                f"{self.path}: {first_problem(err, 'file')} (fix or remove the file; it was "
                "left as it is)"
            ) from None
        for name in users:
            if not NAME_RULE.match(name):
                raise InvalidInput(f"{self.path}: user name {name!r}: use {NAME_HELP}")
        return dict(users)

    def _write(self, users: dict[str, _Entry]) -> None:
        """Readers see the old file or the new one, never half of one; only the owner may
        read it (mode 0600, set before any hash is written)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = _UsersFile(users=dict(sorted(users.items()))).model_dump(mode="json")
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:  # mkstemp: mode 0600
                json.dump(data, out, indent=2)
                out.write("\n")
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
