"""Time to first token under the old context layout and the new, paired: the same questions,
answered alternately by one process (one loaded model), so machine load hits both alike.

    RAG_HOME=... RAG_COLLECTION=eval-papers python eval/results/context/latency.py \
        eval/results/context/aragog/answers.jsonl 12
"""

from __future__ import annotations

import json
import statistics
import sys

from rag_app.chain.rag import Components, compose
from rag_app.config import get_settings

LAYOUTS = {"256, no limit": {"context_token_budget": 256, "passage_token_limit": None}}


def main(answers: str, count: int) -> None:
    with open(answers, encoding="utf-8") as lines:
        questions = list(dict.fromkeys(json.loads(line)["question"] for line in lines))[:count]
    base = Components(get_settings())
    chains = {"512, limit 192 (default)": compose(base)}
    chains.update({name: compose(base.with_settings(**update)) for name, update in LAYOUTS.items()})
    first: dict[str, list[float]] = {name: [] for name in chains}
    prompt: dict[str, list[int]] = {name: [] for name in chains}
    for question in questions:
        for name, chain in chains.items():
            answer = chain.invoke(question)
            if answer.usage is None:  # retrieval abstained: no LLM call to time
                continue
            first[name].append(answer.timings["first_token"])
            prompt[name].append(answer.usage.prompt_tokens - answer.usage.cached_tokens)
    for name in chains:
        print(
            f"{name}: {len(first[name])} answers, first token median "
            f"{statistics.median(first[name]):.1f} s, uncached prompt median "
            f"{statistics.median(prompt[name]):.0f} tokens"
        )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
