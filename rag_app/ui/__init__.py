"""The chat page (`rag serve`): `app` lays it out, `chat` answers, `library` ingests and
deletes, `render` turns answers into the sources panel and the debug table."""

from rag_app.ui.app import build_app, launch, serve

__all__ = ["build_app", "launch", "serve"]
