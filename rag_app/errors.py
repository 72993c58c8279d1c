"""Which failures are the user's to fix, and how to say them in one line (CLI and chat page)."""

from __future__ import annotations


def is_user_fixable(err: BaseException) -> bool:
    """A missing model, file or document, or a bad setting (pydantic's ValidationError is a
    ValueError): the message tells the user what to do; anything else is a bug."""
    from rag_app.models.gguf import ModelNotAvailable
    from rag_app.retrieval.hybrid import EmptyCollectionError

    user_fixable = ModelNotAvailable | FileNotFoundError | EmptyCollectionError | ValueError
    return isinstance(err, user_fixable)


def one_line(err: BaseException) -> str:
    """The message on one line; a settings error names each bad setting."""
    from pydantic import ValidationError

    if isinstance(err, ValidationError):
        return "; ".join(
            f"setting {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()
        )
    return " ".join(str(err).split())
