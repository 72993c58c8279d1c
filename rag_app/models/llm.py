"""The chat model behind the answers: a local GGUF via llama.cpp, or an OpenAI-compatible API."""

from __future__ import annotations

import atexit
import os
from functools import lru_cache

from langchain_core.language_models import BaseChatModel

from rag_app.config import Settings
from rag_app.models.resolve import resolve_gguf


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The configured chat model; a local one is loaded once per process and shared."""
    if settings.llm_backend == "openai":
        return _openai_model(settings)
    path = resolve_gguf(settings.llm_model, settings.models_dir)
    return _llamacpp_model(
        str(path),
        settings.llm_context_window,
        settings.llm_threads or os.cpu_count() or 1,
        settings.llm_max_tokens,
        settings.llm_temperature,
        settings.llm_seed,
    )


@lru_cache(maxsize=2)
def _llamacpp_model(
    path: str, n_ctx: int, n_threads: int, max_tokens: int, temperature: float, seed: int
) -> BaseChatModel:
    from rag_app.models.llamacpp import SerialChatLlamaCpp

    model = SerialChatLlamaCpp(
        model_path=path,
        n_ctx=n_ctx,
        n_threads=n_threads,
        # LangChain's defaults would hurt: n_batch=8 makes CPU prefill several times slower,
        # and rope_freq_base=10000 overrides the model's own RoPE base (Qwen2.5 uses 1e6),
        # which garbles long prompts. 0 means "take it from the GGUF".
        n_batch=512,
        rope_freq_base=0.0,
        rope_freq_scale=0.0,
        max_tokens=max_tokens,
        temperature=temperature,
        repeat_penalty=1.05,
        seed=seed,
        streaming=True,
        verbose=False,
    )
    # Free the model before interpreter teardown: llama-cpp-python's own __del__ runs after
    # its module globals are gone and prints a TypeError traceback at every exit.
    atexit.register(model.client.close)
    return model


def _openai_model(settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    if not settings.llm_base_url and not os.environ.get("OPENAI_API_KEY"):
        raise ValueError("llm_backend=openai needs llm_base_url (or OPENAI_API_KEY for OpenAI)")
    key = settings.llm_api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"
    return ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.llm_base_url,
        api_key=SecretStr(key),
        max_completion_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
        seed=settings.llm_seed,
        streaming=True,
        max_retries=1,
    )
