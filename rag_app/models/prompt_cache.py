"""llama-cpp-python's RAM prompt cache, with its capacity counting what it really holds.

`LlamaRAMCache` counts only each state's KV bytes against its capacity, but every state it
keeps also holds a copy of the model's logits buffer (`n_batch` x vocabulary floats): 311 MB for
Qwen2.5 at n_batch 512, some ten times the KV state of a 950-token prompt. A 256 MB cache so
held up to eight states, about 2.7 GB, per model: a chain answering ARAGOG questions grew by
~350 MB a question (1.7 GB after the first, 4.1 GB after the seventh), and `rag eval answers`
(answer model and judge) reached 10.7 GB and was killed by the kernel. Counting every array of
a state makes the setting the memory it costs: with 1,024 MB the same chain levels off at
2.8 GB after the fourth question (`eval/results/context/README.md`).
"""

from __future__ import annotations

from llama_cpp import LlamaRAMCache


class BoundedPromptCache(LlamaRAMCache):
    @property
    def cache_size(self) -> int:
        return sum(
            state.llama_state_size + state.scores.nbytes + state.input_ids.nbytes
            for state in self.cache_state.values()
        )
