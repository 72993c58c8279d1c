"""LangChain's llama.cpp chat model, made safe to share between threads and made to report
what each generation cost."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from langchain_community.chat_models import ChatLlamaCpp
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr


class SerialChatLlamaCpp(ChatLlamaCpp):
    """A llama.cpp model has one KV cache: two generations at once crash the process (seen
    with three threads streaming from one model). Calls here take turns, so the chat page's
    users can share the one loaded model.

    The turn is a plain lock, not an RLock: LangChain's async path (`ainvoke`, `astream`, and
    so RAGAS) pulls a sync stream one chunk at a time from whichever executor thread is free,
    so the thread that ends a stream is not always the one that began it.

    Every stream ends with an empty chunk carrying LangChain's `usage_metadata` (prompt tokens,
    and under `input_token_details["cache_read"]` those whose KV state llama.cpp reused from
    the previous prompt) and, in `response_metadata`, llama.cpp's own prefill and generation
    seconds. ChatLlamaCpp reports none of it, and prefix reuse is only visible in these
    counters.

    A call's `grammar` may be GBNF text (`rag_app/chain/grammar.py`); it is compiled here.

    `choice_probabilities` reads the model's next-token distribution, which ChatLlamaCpp
    does not expose (`rag_app/protocols.py`, `ChoiceModel`)."""

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
            return super()._generate(messages, stop, run_manager, **_compiled(kwargs))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        import llama_cpp

        with self._turn:
            context = self.client._ctx.ctx
            llama_cpp.llama_perf_context_reset(context)
            yield from super()._stream(messages, stop, run_manager, **_compiled(kwargs))
            llama_cpp.llama_synchronize(context)  # the counters are added up on synchronising
            yield _usage_chunk(llama_cpp.llama_perf_context(context), self.client.n_tokens)

    def choice_probabilities(
        self, messages: list[BaseMessage], choices: Sequence[str]
    ) -> list[float]:
        """How likely the reply is to begin with each of `choices` ("yes", "no"), as shares of
        their total: a verdict with a strength, so its threshold can be calibrated.

        Read from the logits of the reply's first token, caught by a logits processor during
        a one-token completion. llama-cpp-python's own `logprobs` would need the model loaded
        with `logits_all`, which keeps every position's logits and slows each answer's prefill.
        A choice counts as its first token, lower-case and capitalised ("yes", "Yes")."""
        from llama_cpp import LogitsProcessorList

        options = [
            sorted({self.client.tokenize(form.encode(), add_bos=False)[0] for form in forms})
            for forms in ((c, c.capitalize()) for c in choices)
        ]
        first: list[np.ndarray] = []

        def record(_: Any, scores: np.ndarray) -> np.ndarray:
            if not first:
                first.append(scores.astype(np.float64))
            return scores

        with self._turn:
            self.client.create_chat_completion(
                messages=self._create_message_dicts(messages),
                max_tokens=1,
                temperature=0.0,
                logits_processor=LogitsProcessorList([record]),
            )
        logits = first[0]
        top = max(logits[ids].max() for ids in options)
        weights = [float(np.exp(logits[ids] - top).sum()) for ids in options]
        return [w / sum(weights) for w in weights]


def _compiled(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A `grammar` given as GBNF text, compiled: callers (the chain) stay free of llama_cpp
    and a grammar is compiled once per text, not once per call."""
    grammar = kwargs.get("grammar")
    return {**kwargs, "grammar": _grammar(grammar)} if isinstance(grammar, str) else kwargs


@lru_cache(maxsize=32)
def _grammar(text: str) -> Any:
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_string(text, verbose=False)


def _usage_chunk(perf: Any, n_tokens: int) -> ChatGenerationChunk:
    """llama.cpp counts a decode of more than one token as prefill (`n_p_eval`) and each
    single-token decode as generation (`n_eval`); the context then holds the prompt plus every
    generated token but the last, so what it holds beyond both counts was reused."""
    generated = int(perf.n_eval) if perf.t_eval_ms > 0 else 0  # llama.cpp reports 0 as 1
    computed = int(perf.n_p_eval) if perf.t_p_eval_ms > 0 else 0
    prompt = max(n_tokens - generated, 0)
    cached = max(prompt - computed, 0)
    usage = UsageMetadata(
        input_tokens=prompt,
        output_tokens=generated,
        total_tokens=prompt + generated,
        input_token_details={"cache_read": cached},
    )
    timings = {
        "prefill_seconds": perf.t_p_eval_ms / 1000,
        "generation_seconds": perf.t_eval_ms / 1000,
    }
    return ChatGenerationChunk(
        message=AIMessageChunk(content="", usage_metadata=usage, response_metadata=timings)
    )
