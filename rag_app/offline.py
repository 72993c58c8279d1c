"""Close every network path the stack would otherwise open (see shared/STACK.md).

Runs when `rag_app` is imported, before any of the libraries it names reads its environment.
Telemetry is switched off unconditionally. The Hugging Face hub is set offline only by default:
a user with internet who wants a hub-named reranker can export HF_HUB_OFFLINE=0.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_FORCED = {
    "ANONYMIZED_TELEMETRY": "False",  # Chroma
    "GRADIO_ANALYTICS_ENABLED": "False",
    "RAGAS_DO_NOT_TRACK": "true",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGSMITH_TRACING": "false",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}
_DEFAULTS = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def _bundled_tiktoken_cache() -> Path | None:
    """llama-index-core ships cl100k_base and o200k_base; point tiktoken there, not the web."""
    for entry in sys.path:
        candidate = Path(entry) / "llama_index" / "core" / "_static" / "tiktoken_cache"
        if candidate.is_dir():
            return candidate
    return None


def close_network_paths() -> None:
    os.environ.update(_FORCED)
    for key, value in _DEFAULTS.items():
        os.environ.setdefault(key, value)
    cache = _bundled_tiktoken_cache()
    if cache is not None:
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache))
