"""The LLM alone: prefill and generation speed at 256-2,048 prompt tokens, through the chat
model the chain uses and through the same binary's bare `eval` (the ceiling), and whether the
answer prompt's fixed prefix is reused between questions.

    python -m bench.llm_bench [--model NAME] [--lengths 256,512,1024,2048] [--repeats 3]

The ceiling is what llama-bench measures: a fresh KV cache, the prompt's tokens decoded in
`n_batch` batches (prefill), then single tokens (generation), timed by llama.cpp's own
counters. The chat path renders a chat prompt of the same length, streams an answer and reads
the counters `SerialChatLlamaCpp` reports; "first token" is wall time from the call to the
first streamed text. Every prompt is a different slice of the FastAPI docs, so no prompt shares
more than the chat template's first tokens with the one before.

The prefix check asks the chain's answer prompt (system rules, worked example, passages,
question) three times with other passages: a cold start, a second question, and a question
after an unrelated prompt (the condense step of a follow-up); it reports the prompt and cached
tokens of each. Run it once per candidate build (`PYTHONPATH=<build dir>`): the results name the
kernels the binary runs and the CPU's flags.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from bench.common import DATA, part_main, ratio
from rag_app.chain.rag import AnswerStage, ChainState, Components, llm_usage
from rag_app.config import Settings
from rag_app.models.kernels import built_features, cpu_flags, system_info
from rag_app.models.llm import make_chat_model
from rag_app.types import LLMUsage, Passage

GENERATE = 32


def corpus_tokens(llama: Any, limit: int) -> list[int]:
    """Plain English prose in Markdown: the FastAPI docs, tokenised by the LLM itself."""
    files = sorted((DATA / "fastapi-docs").rglob("*.md"))
    tokens: list[int] = []
    for path in files:
        tokens += llama.tokenize(path.read_bytes(), add_bos=False, special=False)
        if len(tokens) >= limit:
            break
    return tokens[:limit]


def ceiling(llama: Any, prompt: list[int]) -> dict[str, float]:
    """Prefill and generation tok/s of the bare binary, timed as llama-bench times them (wall
    clock around decode, synchronised): llama.cpp's own counters book single-token decodes that
    nobody reads the logits of as prefill."""
    import llama_cpp

    llama.reset()
    llama._ctx.kv_cache_clear()
    context = llama._ctx.ctx
    started = time.perf_counter()
    llama.eval(prompt)
    llama_cpp.llama_synchronize(context)
    prefill = time.perf_counter() - started
    token = prompt[-1]
    started = time.perf_counter()
    for _ in range(GENERATE):
        llama.eval([token])
        llama_cpp.llama_synchronize(context)
    generation = time.perf_counter() - started
    return {"prefill_tok_s": len(prompt) / prefill, "generation_tok_s": GENERATE / generation}


def chat_path(llm: Any, text: str) -> tuple[LLMUsage, float]:
    from langchain_core.messages import HumanMessage

    started = time.perf_counter()
    first: float | None = None
    usage: LLMUsage | None = None
    prompt = [HumanMessage(f"{text}\n\nSummarise the text above in one sentence.")]
    for message in llm.stream(prompt, max_tokens=GENERATE):
        usage = llm_usage(message) or usage
        if first is None and message.content:
            first = time.perf_counter() - started
    assert usage is not None, "the chat model reported no usage"
    return usage, first or 0.0


def median(rows: list[dict[str, float]], key: str) -> float:
    return round(statistics.median(row[key] for row in rows), 1)


def speeds(llm: Any, lengths: list[int], repeats: int) -> dict[str, Any]:
    llama = llm.client
    # The chat template adds ~30 tokens around the text; leave room for them and the answer.
    pool = corpus_tokens(llama, sum(lengths) * repeats * 2)
    offset = 0
    table: dict[str, Any] = {}
    for length in lengths:
        rows = []
        for _ in range(repeats):
            piece = pool[offset : offset + length]
            offset += length
            bare = ceiling(llama, piece)
            text_tokens = pool[offset : offset + length - 40]
            offset += length
            text = llama.detokenize(text_tokens).decode("utf-8", errors="ignore")
            usage, first = chat_path(llm, text)
            rows.append(
                {
                    **{f"ceiling_{k}": v for k, v in bare.items()},
                    "prompt_tokens": usage.prompt_tokens,
                    "cached_tokens": usage.cached_tokens,
                    "prefill_tok_s": usage.prefill_tokens_per_s or 0.0,
                    "generation_tok_s": usage.generation_tokens_per_s or 0.0,
                    "first_token_s": first,
                }
            )
        row = {key: median(rows, key) for key in rows[0]}
        row["prefill_of_ceiling"] = ratio(row["prefill_tok_s"], row["ceiling_prefill_tok_s"])
        table[str(length)] = row
        print(f"[llm] {length} tokens: {row}", flush=True)
    return table


def prefix_reuse(llm: Any, settings: Settings) -> dict[str, Any]:
    """The answer prompt three times, as the chain sends it; a condense-sized unrelated prompt
    before the third."""
    from langchain_core.messages import HumanMessage

    stage = AnswerStage(Components(settings, llm=llm))
    docs = sorted((DATA / "fastapi-docs").rglob("*.md"))

    def ask(i: int) -> dict[str, Any]:
        text = docs[i].read_text(encoding="utf-8")[:1500]
        question = f"What does {docs[i].stem} explain?"
        passage = Passage(n=1, text=text, source=str(docs[i]), title=docs[i].stem)
        state = ChainState(question=question, standalone=question, passages=[passage])
        answer = stage.invoke(state)
        assert answer.usage is not None
        return {
            "prompt_tokens": answer.usage.prompt_tokens,
            "cached_tokens": answer.usage.cached_tokens,
            "first_token_s": round(answer.timings["first_token"], 2),
        }

    cold = ask(0)
    second = ask(1)
    llm.invoke([HumanMessage("Rewrite as one question: and how do I change it?")])
    after_other = ask(2)
    return {"cold": cold, "second_question": second, "after_other_prompt": after_other}


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(llm_model=args.model, llm_max_tokens=GENERATE)
    lengths = [256] if args.quick else [int(n) for n in args.lengths.split(",")]
    llm = make_chat_model(settings)
    info = system_info()
    flags = cpu_flags()
    return {
        "model": args.model,
        "n_threads": llm.client.n_threads,  # type: ignore[attr-defined]
        "n_batch": llm.client.n_batch,  # type: ignore[attr-defined]
        "kernels": sorted(built_features(info)),
        "system_info": info,
        "cpu_flags": sorted(f for f in flags if f.startswith(("avx", "amx", "fma", "f16c"))),
        "speeds": speeds(llm, lengths, 1 if args.quick else args.repeats),
        "prefix": prefix_reuse(llm, settings),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=Settings().llm_model, help="LLM (default: config)")
    parser.add_argument("--lengths", default="256,512,1024,2048", help="prompt tokens")
    parser.add_argument("--repeats", type=int, default=3, help="runs per length (median)")


if __name__ == "__main__":
    part_main(run, __doc__, add_arguments)
