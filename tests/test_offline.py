"""No code path may reach the network: ingest and answer with every outbound socket refused."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag_app.chain.rag import build_chain
from rag_app.config import Settings
from tests.fakes import ScriptedOpenAI


def test_guard_really_blocks(no_network: list[object]) -> None:
    import socket

    with pytest.raises(OSError, match="blocked"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)
    assert no_network


@pytest.mark.integration
def test_ingest_and_ask_offline_with_the_local_llm(
    no_network: list[object], docs_dir: Path, rag_home: Path
) -> None:
    settings = Settings(home=rag_home, llm_model="smollm2-135m-instruct", llm_max_tokens=48)
    ingestor = Ingestor(settings)
    assert ingestor.run([docs_dir]).ok
    answer = build_chain(settings).invoke({"question": "When is the tool shed open?"})
    assert answer.text and answer.contexts
    assert no_network == []


@pytest.fixture
def openai_stub() -> Iterator[ScriptedOpenAI]:
    with ScriptedOpenAI(lambda messages: "The shed is closed on Mondays [1].") as endpoint:
        yield endpoint


def test_openai_compatible_endpoint_answers(
    no_network: list[object], openai_stub: ScriptedOpenAI, docs_dir: Path, rag_home: Path
) -> None:
    settings = Settings(
        home=rag_home, llm_backend="openai", llm_model="llama3.2", llm_base_url=openai_stub.url
    )
    Ingestor(settings).run([docs_dir])
    answer = build_chain(settings).invoke("When is the tool shed closed?")
    assert answer.text == "The shed is closed on Mondays [1]."
    assert answer.citations and answer.citations[0].n == 1
    sent = openai_stub.requests[-1]
    assert sent["model"] == "llama3.2" and sent["stream"] is True
    assert answer.usage is not None  # the endpoint's own counts, asked for with the stream
    assert (answer.usage.prompt_tokens, answer.usage.cached_tokens) == (120, 100)
    assert answer.usage.output_tokens == 9
    assert no_network == []


def test_the_endpoint_token_counter_reads_the_bundled_tokenizer(no_network: list[object]) -> None:
    from rag_app.models.llm import llm_token_counter

    count = llm_token_counter(Settings(llm_backend="openai", llm_base_url="http://127.0.0.1:9"))
    assert count("Hello world") == 2 and count("") == 0
    assert no_network == []


def test_a_missing_tokenizer_copy_is_an_error_not_a_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: list[object]
) -> None:
    import tiktoken.registry

    from rag_app.models.gguf import ModelNotAvailable
    from rag_app.models.llm import llm_token_counter

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))  # an empty cache
    monkeypatch.delitem(tiktoken.registry.ENCODINGS, "cl100k_base", raising=False)
    settings = Settings(llm_backend="openai", llm_base_url="http://127.0.0.1:9")
    with pytest.raises(ModelNotAvailable, match="does not download https://"):
        llm_token_counter(settings)
    assert no_network == []  # refused before any socket, not by the guard
    import tiktoken.load

    assert tiktoken.load.read_file.__name__ == "read_file"  # put back afterwards
