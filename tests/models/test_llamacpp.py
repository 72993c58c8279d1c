import threading

import pytest
from langchain_core.messages import HumanMessage

from rag_app.config import Settings
from rag_app.models.llm import make_chat_model


@pytest.mark.integration
def test_one_model_serves_several_threads(settings: Settings) -> None:
    """Unserialised, three threads generating at once crashed the process (llama.cpp has one
    KV cache per model); in turns, each gets what it would have got alone."""
    llm = make_chat_model(settings.updated(llm_model="smollm2-135m-instruct", llm_max_tokens=24))
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
    assert first and rest is not None
    assert asyncio.run(llm.ainvoke(prompt)).content  # the turn is free again
