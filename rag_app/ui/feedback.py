"""Rating answers on the chat page: which answer a thumb refers to, and recording it.

The browser says only which message was rated (its index in the conversation); the question,
the answer and the passages it cited come from the session's own record of what it showed,
never from the browser, so a forged request cannot label documents the answer did not cite.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from rag_app.config import Settings
from rag_app.errors import InvalidInput
from rag_app.feedback import Feedback, Rating, ShownAnswer, record
from rag_app.types import Answer

_THUMBS: dict[Rating, str] = {"up": "Like", "down": "Dislike"}


@dataclass
class Ratings:
    """One browser session's answers, by their index in its conversation (a `gr.State`)."""

    shown: dict[int, ShownAnswer] = field(default_factory=dict)
    given: dict[str, Feedback] = field(default_factory=dict)
    """The latest rating of each answer, by answer id: a note or a new thumb keeps the other."""
    last: str | None = None
    """The answer rated last: the one a note goes with."""

    def asking(self, messages: int) -> None:
        """A question is asked after `messages` messages: answers from there on were cleared
        (a new conversation, or another collection) and can no longer be rated or noted."""
        self.shown = {i: answer for i, answer in self.shown.items() if i < messages}
        kept = {answer.id for answer in self.shown.values()}
        self.given = {id: rated for id, rated in self.given.items() if id in kept}
        self.last = self.last if self.last in kept else None

    def thumbs(self, messages: list[dict[str, Any]]) -> list[str | None]:
        """The Chatbot's `feedback_value`: each assistant message's thumb, which the page
        forgets when the conversation is sent anew with the next answer."""
        return [
            self._thumb(index)
            for index, message in enumerate(messages)
            if message.get("role") == "assistant"
        ]

    def _thumb(self, index: int) -> str | None:
        shown = self.shown.get(index)
        rated = self.given.get(shown.id) if shown else None
        return _THUMBS.get(rated.rating) if rated and rated.rating else None

    def showing(self, index: int, answer: Answer, asked: str, collection: str) -> None:
        self.shown[index] = ShownAnswer.of(answer, asked, collection, uuid.uuid4().hex)

    def rate(
        self, index: int | tuple[int, int], liked: bool | str, user: str | None, settings: Settings
    ) -> Feedback:
        """Gradio's like event: `liked` is True (thumb up), False (down) or "" (taken back)."""
        shown = self.shown.get(index) if isinstance(index, int) else None
        if shown is None:
            raise InvalidInput("Only a finished answer can be rated.")
        rating: Rating | None = "up" if liked is True else "down" if liked is False else None
        earlier = self.given.get(shown.id)
        note = earlier.note if earlier else ""
        return self._record(shown, user, rating, note, settings)

    def add_note(self, note: str, user: str | None, settings: Settings) -> Feedback:
        rated = self.given.get(self.last or "")
        if rated is None or rated.rating is None:
            raise InvalidInput("Rate an answer (thumbs up or down) first; the note goes with it.")
        if not note.strip():
            raise InvalidInput("Type the note first.")
        return self._record(rated, user, rated.rating, note, settings)

    def _record(
        self,
        shown: ShownAnswer,
        user: str | None,
        rating: Rating | None,
        note: str,
        settings: Settings,
    ) -> Feedback:
        path = settings.updated(collection=shown.collection).feedback_file
        self.given[shown.id] = feedback = record(path, shown, user, rating, note)
        self.last = shown.id
        return feedback
