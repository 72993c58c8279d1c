"""No code path may reach the network: ingest and answer with every outbound socket refused."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from ingest.pipeline import Ingestor
from rag_app.chain.rag import build_chain
from rag_app.config import Settings


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


class _FakeOpenAI(BaseHTTPRequestHandler):
    """Just enough of /v1/chat/completions (streamed) to stand in for Ollama or vLLM."""

    requests: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in ["The shed is closed ", "on Mondays [1]."]:
            chunk = {
                "id": "x",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def openai_stub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_openai_compatible_endpoint_answers(
    no_network: list[object], openai_stub: str, docs_dir: Path, rag_home: Path
) -> None:
    settings = Settings(
        home=rag_home, llm_backend="openai", llm_model="llama3.2", llm_base_url=openai_stub
    )
    Ingestor(settings).run([docs_dir])
    answer = build_chain(settings).invoke("When is the tool shed closed?")
    assert answer.text == "The shed is closed on Mondays [1]."
    assert answer.citations and answer.citations[0].n == 1
    sent = _FakeOpenAI.requests[-1]
    assert sent["model"] == "llama3.2" and sent["stream"] is True
    assert no_network == []
