"""LangChain's llama.cpp chat model, made safe to share between threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from langchain_community.chat_models import ChatLlamaCpp
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr


class SerialChatLlamaCpp(ChatLlamaCpp):
    """A llama.cpp model has one KV cache: two generations at once crash the process (seen
    with three threads streaming from one model). Calls here take turns, so the chat page's
    users can share the one loaded model.

    The turn is a plain lock, not an RLock: LangChain's async path (`ainvoke`, `astream`, and
    so RAGAS) pulls a sync stream one chunk at a time from whichever executor thread is free,
    so the thread that ends a stream is not always the one that began it."""

    _turn: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.streaming:  # ChatLlamaCpp would stream through `_stream`, which takes the turn
            return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))
        with self._turn:
            return super()._generate(messages, stop, run_manager, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self._turn:
            yield from super()._stream(messages, stop, run_manager, **kwargs)
