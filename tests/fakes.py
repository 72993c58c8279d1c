"""Test doubles shared by several test modules: a prompt-recording LLM (and one that also
gives yes/no probabilities), a scripted reranker, a scripted OpenAI-compatible endpoint."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage

from rag_app.types import Answer, Passage, ScoredChunk


class RecordingLLM(FakeListChatModel):
    """A fake chat model that also keeps the prompts it was given."""

    prompts: list[list[BaseMessage]] = []  # noqa: RUF012 (a pydantic field: copied per instance)
    calls: list[dict[str, Any]] = []  # noqa: RUF012 (each call's extra arguments, e.g. grammar)

    def _call(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> str:
        self.prompts.append(list(messages))
        self.calls.append(dict(kwargs))
        return super()._call(messages, *args, **kwargs)

    def _stream(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Iterator[Any]:
        self.prompts.append(list(messages))
        self.calls.append(dict(kwargs))
        return super()._stream(messages, *args, **kwargs)


class ScoringLLM(RecordingLLM):
    """Answers from its script and gives `p_yes` as the probability of a reply's first word
    being "yes", as the local model does."""

    p_yes: float = 0.5
    scored: list[list[BaseMessage]] = []  # noqa: RUF012 (a pydantic field: copied per instance)

    def choice_probabilities(
        self, messages: list[BaseMessage], choices: Sequence[str]
    ) -> list[float]:
        assert list(choices) == ["yes", "no"]
        self.scored.append(list(messages))
        return [self.p_yes, 1 - self.p_yes]


class ScriptedReranker:
    """Gives each candidate a score from a table (default -5) and records the queries."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores
        self.calls = 0

    def rerank(self, query: str, candidates: list[ScoredChunk], k: int) -> list[ScoredChunk]:
        self.calls += 1
        scored = [
            ScoredChunk(
                chunk=c.chunk,
                score=self._score(c),
                scores={**c.scores, "rerank": self._score(c)},
            )
            for c in candidates
        ]
        return sorted(scored, key=lambda c: c.score, reverse=True)[:k]

    def _score(self, c: ScoredChunk) -> float:
        return next((v for key, v in self.scores.items() if key in c.chunk.text), -5.0)


class ScriptedOpenAI:
    """Just enough of an OpenAI-compatible /v1/chat/completions (streamed) to stand in for
    Ollama or vLLM: `reply(messages)` writes each answer, sent a word at a time; every request
    body is kept in `requests`; a request for usage gets `usage` (prompt, cached, completion
    tokens) in a last chunk, as OpenAI sends it. `first_delay` stands for prefill before the
    first word; `first_sent` holds the epoch time each request's first word left. Use as a
    context manager; `url` is the base URL."""

    def __init__(
        self,
        reply: Callable[[list[dict[str, Any]]], str],
        delay: float = 0.0,
        usage: tuple[int, int, int] = (120, 100, 9),
        first_delay: float = 0.0,
    ) -> None:
        self.reply = reply
        self.delay = delay
        self.usage = usage
        self.first_delay = first_delay
        self.first_sent: list[float] = []
        self.requests: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                time.sleep(owner.first_delay)
                for i, piece in enumerate(re.findall(r"\S+\s*", owner.reply(body["messages"]))):
                    event = json.dumps(_chunk(body["model"], piece))
                    self.wfile.write(f"data: {event}\n\n".encode())
                    self.wfile.flush()
                    if i == 0:
                        owner.first_sent.append(time.time())
                    time.sleep(owner.delay)
                if (body.get("stream_options") or {}).get("include_usage"):
                    event = json.dumps(_usage(body["model"], owner.usage))
                    self.wfile.write(f"data: {event}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def __enter__(self) -> ScriptedOpenAI:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _chunk(model: str, piece: str) -> dict[str, Any]:
    return {
        "id": "x",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
    }


def _usage(model: str, usage: tuple[int, int, int]) -> dict[str, Any]:
    prompt, cached, completion = usage
    return {
        "id": "x",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
        },
    }


class HashingEmbedder:
    """A `TextEncoder` without a model: each word hashed into one of `dimension` buckets,
    L2-normalised. Texts sharing words come out close, which is all a unit test of storage and
    retrieval needs; nothing loads, so such tests take milliseconds."""

    def __init__(self, dimension: int = 64, name: str = "hashing-test-encoder") -> None:
        self.name = name
        self._dimension = dimension

    @property
    def dimension(self) -> int:
        return self._dimension

    def tokenize(self, text: str) -> list[int]:
        return [self._bucket(word) for word in re.findall(r"\w+", text.lower())]

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        rows = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in zip(rows, texts, strict=True):
            for bucket in self.tokenize(text):
                row[bucket] += 1.0
            norm = float(np.linalg.norm(row))
            if norm:
                row /= norm
        return rows

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_passages([text])[0]

    def warm_up(self) -> None:
        pass

    def _bucket(self, word: str) -> int:
        return int(hashlib.blake2b(word.encode(), digest_size=4).hexdigest(), 16) % self._dimension


def withheld_answer(*read: Passage) -> Answer:
    """An abstention in place of a reply the checks stopped, after reading `read`."""
    return Answer(
        question="q",
        text="The documents do not answer this.",
        abstained=True,
        withheld="it restated the question",
        contexts=list(read),
    )
