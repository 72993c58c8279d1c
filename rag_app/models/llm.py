"""The chat model behind the answers: a local GGUF via llama.cpp, or an OpenAI-compatible API."""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from langchain_core.language_models import BaseChatModel

from rag_app.config import Settings
from rag_app.errors import InvalidInput, UserError
from rag_app.models.gguf import ModelNotAvailable
from rag_app.models.resolve import resolve_gguf

if TYPE_CHECKING:
    import tiktoken


def _require_kernels() -> None:
    """`check_kernels` stays stdlib-only (make runs it before anything is installed); its
    refusal, a venv built on another CPU, is the user's to fix, with the fix in the message."""
    from rag_app.models.kernels import UnsupportedKernels, check_kernels

    try:
        check_kernels()
    except UnsupportedKernels as err:
        raise UserError(str(err)) from err


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
        settings.llm_prompt_cache_mb,
    )


def llm_token_counter(settings: Settings) -> Callable[[str], int]:
    """Counts text in the answering LLM's own tokens, the unit its prefill time and context
    window are spent in (the embedder's WordPiece count ran 10-30 % off it on prose, more on
    code and figures). A local GGUF loads its vocabulary alone for this, not the weights;
    for an OpenAI-compatible endpoint, whose tokenizer is not known offline, cl100k_base
    (bundled with llama-index) stands in."""
    if settings.llm_backend == "openai":
        encoding = _bundled_cl100k()
        return lambda text: len(encoding.encode(text, disallowed_special=()))
    return _gguf_counter(str(resolve_gguf(settings.llm_model, settings.models_dir)))


def _bundled_cl100k() -> tiktoken.Encoding:
    """cl100k_base from llama-index-core's bundled copy (rag_app.offline points
    TIKTOKEN_CACHE_DIR there). tiktoken fetches from the web whenever its cache misses or fails
    its hash check; that fetch is refused here, so a missing copy is an error naming it, never
    a download."""
    import tiktoken
    import tiktoken.load

    def refuse(blobpath: str) -> bytes:
        raise ModelNotAvailable(
            f"the cl100k_base tokenizer is not in the offline cache (TIKTOKEN_CACHE_DIR="
            f"{os.environ.get('TIKTOKEN_CACHE_DIR')!r}); rag_app does not download {blobpath}"
        )

    fetch = tiktoken.load.read_file
    tiktoken.load.read_file = refuse
    try:
        return tiktoken.get_encoding("cl100k_base")
    finally:
        tiktoken.load.read_file = fetch


@lru_cache(maxsize=2)
def _gguf_counter(path: str) -> Callable[[str], int]:
    """llama.cpp's C API on a vocabulary-only load: `Llama(vocab_only=True)` would also make
    a context, and warn on every start that it exceeds the (absent) training context."""
    import logging

    import llama_cpp

    _require_kernels()
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    # The loader's warnings reach llama-cpp-python's logger one level up (its level table
    # predates ggml's DEBUG level), so only CRITICAL keeps them off the user's terminal.
    logger = logging.getLogger("llama-cpp-python")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        model = llama_cpp.llama_model_load_from_file(path.encode(), params)
    finally:
        logger.setLevel(level)
    if not model:
        raise ModelNotAvailable(f"llama.cpp could not read the vocabulary of {path}")
    atexit.register(llama_cpp.llama_model_free, model)
    vocab = llama_cpp.llama_model_get_vocab(model)

    def count(text: str) -> int:
        data = text.encode("utf-8")
        # With no room for tokens, llama_tokenize returns minus the number it needs.
        return -int(llama_cpp.llama_tokenize(vocab, data, len(data), None, 0, False, False))

    return count


@lru_cache(maxsize=2)
def _llamacpp_model(
    path: str,
    n_ctx: int,
    n_threads: int,
    max_tokens: int,
    temperature: float,
    seed: int,
    prompt_cache_mb: int,
) -> BaseChatModel:
    from rag_app.models.llamacpp import SerialChatLlamaCpp

    _require_kernels()
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
    if prompt_cache_mb:
        # llama.cpp reuses the KV state of the prompt before when the new one starts the same
        # way; this cache keeps earlier states too, and loads the one sharing the longest prefix.
        from rag_app.models.prompt_cache import BoundedPromptCache

        model.client.set_cache(BoundedPromptCache(capacity_bytes=prompt_cache_mb * 2**20))
    # Free the model before interpreter teardown: llama-cpp-python's own __del__ runs after
    # its module globals are gone and prints a TypeError traceback at every exit.
    atexit.register(model.client.close)
    return model


def _openai_model(settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    if not settings.llm_base_url and not os.environ.get("OPENAI_API_KEY"):
        raise InvalidInput("llm_backend=openai needs llm_base_url (or OPENAI_API_KEY for OpenAI)")
    key = settings.llm_api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"
    return ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.llm_base_url,
        api_key=SecretStr(key),
        max_completion_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
        seed=settings.llm_seed,
        streaming=True,
        stream_usage=True,  # prompt and cached token counts on the last chunk
        max_retries=1,
    )
