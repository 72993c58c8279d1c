import threading

import pytest
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from rag_app.config import Settings
from rag_app.models.llm import make_chat_model
from rag_app.types import LLMUsage


@pytest.mark.integration
def test_one_model_serves_several_threads(settings: Settings) -> None:
    """Unserialised, three threads generating at once crashed the process (llama.cpp has one
    KV cache per model); in turns, each gets what it would have got alone. Greedy: sampled at
    0.1, an AVX-512 build's near-tied logits (reused prefix or not) pick other words."""
    greedy = settings.updated(
        llm_model="smollm2-135m-instruct", llm_max_tokens=24, llm_temperature=0.0
    )
    llm = make_chat_model(greedy)
    prompt = [HumanMessage("Name three fruits.")]
    alone = llm.invoke(prompt).content
    replies: list[object] = []

    def generate(streamed: bool) -> None:
        if streamed:
            replies.append("".join(str(m.content) for m in llm.stream(prompt)))
        else:
            replies.append(llm.invoke(prompt).content)

    threads = [threading.Thread(target=generate, args=(i > 0,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert alone and replies == [alone] * 3


@pytest.mark.integration
def test_a_stream_may_end_on_another_thread_than_it_began(settings: Settings) -> None:
    """LangChain's async path (RAGAS judges through it) pulls each chunk of a sync stream from
    whichever executor thread is free; an RLock turn then failed with "cannot release
    un-acquired lock"."""
    import asyncio

    llm = make_chat_model(settings.updated(llm_model="smollm2-135m-instruct", llm_max_tokens=16))
    prompt = [HumanMessage("Name a fruit.")]
    stream = llm.stream(prompt)
    first: list[object] = []
    starter = threading.Thread(target=lambda: first.append(next(stream)))
    starter.start()
    starter.join(timeout=300)
    rest = list(stream)  # finished, and the turn released, on the main thread
    assert first and rest  # the 16 tokens arrived across the two threads
    assert asyncio.run(llm.ainvoke(prompt)).content  # the turn is free again


def _usage(llm: object, messages: list[BaseMessage]) -> LLMUsage:
    from rag_app.chain.rag import llm_usage

    reported = [llm_usage(m) for m in llm.stream(messages)]  # type: ignore[attr-defined]
    found = [u for u in reported if u is not None]
    assert len(found) == 1, "one usage report per stream"
    return found[0]


RULES = SystemMessage("You answer questions about gardens. " * 20)
OTHER = [HumanMessage("Rewrite as one question: and how do I change it?")]


@pytest.mark.integration
@pytest.mark.parametrize("cache_mb", [0, 256])  # one SmolLM2 state is ~100 MB
def test_the_answer_prompts_fixed_prefix_is_reused_and_reported(
    settings: Settings, cache_mb: int
) -> None:
    """The system rules are the same for every question: the next question computes only what
    follows them, and the counts say so. An unrelated prompt in between (a follow-up's condense
    step) evicts them from llama.cpp's context; the prompt cache brings them back."""
    llm = make_chat_model(
        settings.updated(
            llm_model="smollm2-135m-instruct", llm_max_tokens=16, llm_prompt_cache_mb=cache_mb
        )
    )
    rules_tokens = len(llm.client.tokenize(str(RULES.content).encode()))  # type: ignore[attr-defined]
    llm.invoke(OTHER)
    first = _usage(llm, [RULES, HumanMessage("When do I water the tomatoes?")])
    second = _usage(llm, [RULES, HumanMessage("Where is the rake kept in winter?")])
    llm.invoke(OTHER)
    third = _usage(llm, [RULES, HumanMessage("Which beds get the most sun?")])
    assert first.cached_tokens < 10 and first.prefill_seconds and first.prefill_seconds > 0
    assert rules_tokens < second.cached_tokens < second.prompt_tokens
    assert abs(first.prompt_tokens - second.prompt_tokens) < 8  # questions of about one length
    if cache_mb:
        assert rules_tokens < third.cached_tokens < third.prompt_tokens
    else:
        assert third.cached_tokens < 10


@pytest.mark.integration
def test_choice_probabilities_are_shares_of_the_first_token_and_generate_nothing_more(
    settings: Settings,
) -> None:
    llm = make_chat_model(settings.updated(llm_model="smollm2-135m-instruct"))
    prompt = [HumanMessage("Is water wet? Reply with one word: yes or no.")]
    yes, no = llm.choice_probabilities(prompt, ["yes", "no"])  # type: ignore[attr-defined]
    assert 0 < yes < 1 and yes + no == pytest.approx(1.0)
    again = llm.choice_probabilities(prompt, ["no", "yes"])  # type: ignore[attr-defined]
    assert again == pytest.approx([no, yes])  # greedy and order-free
