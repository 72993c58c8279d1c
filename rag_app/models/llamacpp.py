"""LangChain's llama.cpp chat model, made safe to share between threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from langchain_community.chat_models import ChatLlamaCpp
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr


class SerialChatLlamaCpp(ChatLlamaCpp):
    """A llama.cpp model has one KV cache: two generations at once crash the process (seen
    with three threads streaming from one model). Calls here take turns, so the chat page's
    users can share the one loaded model; the lock is re-entrant because `_generate` streams."""

    _turn: threading.RLock = PrivateAttr(default_factory=threading.RLock)

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        with self._turn:
            return super()._generate(*args, **kwargs)

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        with self._turn:
            yield from super()._stream(*args, **kwargs)
