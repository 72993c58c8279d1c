"""Which failures are the user's to fix, and how to say them in one line (CLI and chat page).

A failure meant for the user raises a `UserError`: its message says what to do, and the CLI and
the page show it on one line. Everything else is a bug and keeps its traceback, so an internal
`ValueError` is never passed off as the user's mistake.
"""

from __future__ import annotations


class UserError(Exception):
    """A failure the user can fix: a missing model, file or document, or bad input."""


class InvalidInput(UserError, ValueError):
    """A bad file, field, argument or setting; the message names it. Also a `ValueError`, the
    type callers of a parser expect."""


def is_user_fixable(err: BaseException) -> bool:
    """A `UserError`, a missing file, or a settings error (pydantic names each bad setting)."""
    from pydantic import ValidationError

    return isinstance(err, UserError | FileNotFoundError | ValidationError)


def one_line(err: BaseException) -> str:
    """The message on one line; a settings error names each bad setting."""
    from pydantic import ValidationError

    if isinstance(err, ValidationError):
        return "; ".join(
            f"setting {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()
        )
    return " ".join(str(err).split())
