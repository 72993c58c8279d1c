import numpy as np
from llama_cpp import LlamaRAMCache
from llama_cpp.llama import LlamaState

from rag_app.models.prompt_cache import BoundedPromptCache

MB = 2**20


def _state(first_token: int) -> LlamaState:
    """A state as llama-cpp-python saves one: small KV bytes, a large logits buffer."""
    return LlamaState(
        input_ids=np.array([first_token, 1, 2], dtype=np.intc),
        scores=np.zeros((256, 1024), dtype=np.single),  # 1 MB
        n_tokens=3,
        llama_state=b"kv",
        llama_state_size=1000,
        seed=0,
    )


def test_the_cache_counts_every_array_a_state_holds() -> None:
    bounded, library = BoundedPromptCache(capacity_bytes=3 * MB), LlamaRAMCache(3 * MB)
    for first in range(10):
        bounded[[first, 1, 2]] = _state(first)
        library[[first, 1, 2]] = _state(first)
    held = sum(s.scores.nbytes for s in bounded.cache_state.values())
    assert held <= 3 * MB and len(bounded.cache_state) == 2
    assert [k[0] for k in bounded.cache_state] == [8, 9]  # the most recent are kept
    # The library's own count sees only the KV bytes: it keeps all ten, 10 MB.
    assert len(library.cache_state) == 10
