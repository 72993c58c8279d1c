"""Many people on one chat page at once: how long each waits in Gradio's queue, whether the
page shows them where they stand, and whether each gets the answer to their own question.

    python -m bench.ui_load_bench [--users 20] [--max-tokens 64]

A real `rag serve` on loopback, over this repository's docs/ and the tiny bundled model
(smollm2-135m-instruct), with sign-in: every user is added with `rag users add` and asks through
a `gradio_client.Client` of their own, in a thread of their own, all released at once. Each polls
its job for the queue position Gradio reports and for the first streamed output. The model
writes one answer at a time whatever the page's concurrency limit, so what this measures is the
queue and the serving path around one slow worker, not the model: answers are kept short
(`--max-tokens`) to keep the run short. Nothing leaves 127.0.0.1: the server is on loopback, the
models are local, and the sockets of this process and its children are checked at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import part_main, timing
from rag_app.config import Settings
from tests.conftest import REPO
from tests.ui.conftest import rag_serve
from tests.ui.test_serve import ask_args, text_of

QUESTIONS = [
    "How do I use Ollama with rag_app?",
    "Where are the chat page's users kept?",
    "What does rag users audit print?",
    "Which file formats can rag ingest read?",
    "What happens to deleted files when I ingest a folder again?",
    "How do I select the faster Qwen model?",
    "What is Reciprocal Rank Fusion?",
    "How are the users' passwords stored?",
    "What does the --no-auth option do?",
    "How long does make bench take?",
    "What does rag status show?",
    "How does rag tune adapt the search models?",
    "What are parent-child chunks?",
    "How are near-duplicate chunks handled?",
    "How do I evaluate retrieval with my own questions?",
    "Which port does rag serve use by default?",
    "How are scanned PDF pages read?",
    "What does rag calibrate fit?",
    "What are the exit codes of the rag command?",
    "How do I open the page to other machines?",
]
POLL_S = 0.05  # how often each user looks at its job: the resolution of the timings


@dataclass
class Asked:
    """What one user saw: the queue positions Gradio reported (0 = next to run), when the
    first output (the page's first update: out of the queue), the answer's first word and the
    whole answer came (seconds after submitting), and what came back."""

    user: str
    question: str
    ranks: list[int] = field(default_factory=list)
    first_output_s: float | None = None
    first_word_s: float | None = None
    total_s: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def problem(self) -> str | None:
        """Why this user's result is wrong (an error, someone else's conversation, no
        answer), or None."""
        if self.error:
            return self.error
        if [m.get("role") for m in self.history] != ["user", "assistant"]:
            return f"history is not one question and its answer: {self.history!r}"
        if text_of(self.history[0]) != self.question:
            return f"history starts with {text_of(self.history[0])!r}, not its own question"
        answer = text_of(self.history[1])
        if not answer.strip() or "⚠️" in answer:
            return f"no answer: {answer!r}"
        return None


def ask_together(
    url: str, users: Sequence[tuple[str, str]], questions: Sequence[str]
) -> list[Asked]:
    """Each user signs in with a client of their own, then all ask at the same moment through
    `/ask`; returns once every answer (or error) is in."""
    from gradio_client import Client

    asked = [Asked(name, q) for (name, _), q in zip(users, questions, strict=True)]
    start = threading.Barrier(len(users))

    def one(user: tuple[str, str], record: Asked) -> None:
        try:
            client = Client(url, auth=user, verbose=False)
        except Exception as err:  # the others must not wait at the barrier for ever
            record.error = f"sign-in failed: {err}"
            start.abort()
            return
        try:
            start.wait()
        except threading.BrokenBarrierError:
            record.error = "not asked: another user could not sign in"
            return
        submitted = time.perf_counter()
        job = client.submit(*ask_args(record.question), api_name="/ask")
        while not job.done():
            status = job.status()
            if status.rank is not None and status.code.name == "IN_QUEUE":
                record.ranks.append(status.rank)
            outputs = job.outputs()
            if record.first_output_s is None and outputs:
                record.first_output_s = time.perf_counter() - submitted
            if record.first_word_s is None and outputs and len(outputs[-1][1]) > 1:
                record.first_word_s = time.perf_counter() - submitted
            time.sleep(POLL_S)
        record.total_s = time.perf_counter() - submitted
        try:
            _, record.history, _, _ = job.result()
        except Exception as err:
            record.error = f"{type(err).__name__}: {err}"
        record.first_output_s = record.first_output_s or record.total_s
        record.first_word_s = record.first_word_s or record.total_s
        client.close()

    threads = [
        threading.Thread(target=one, args=(user, record))
        for user, record in zip(users, asked, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return asked


def add_users(home: Path, count: int) -> list[tuple[str, str]]:
    """`rag users add`, as an administrator would, one reader per simulated person."""
    users = [(f"user{i:02d}", f"password of user {i}") for i in range(count)]
    environment = {**os.environ, "RAG_HOME": str(home)}
    for name, password in users:
        subprocess.run(
            [sys.executable, "-m", "rag_app.cli", "users", "add", name],
            input=f"{password}\n",
            env=environment,
            check=True,
            capture_output=True,
            text=True,
        )
    return users


def non_loopback_connections() -> list[str]:
    """Remote addresses of this process's and its children's sockets that are not loopback."""
    import psutil

    me = psutil.Process()
    found = []
    for process in [me, *me.children(recursive=True)]:
        for connection in process.net_connections(kind="inet"):
            remote = connection.raddr
            if remote and not remote.ip.startswith("127.") and remote.ip != "::1":
                found.append(f"{process.pid}: {remote.ip}:{remote.port}")
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    count = 4 if args.quick else args.users
    if count > len(QUESTIONS):
        raise SystemExit(f"--users: at most {len(QUESTIONS)}, one distinct question each")
    with tempfile.TemporaryDirectory(prefix="ui-load-bench-") as home:
        server = Settings(home=Path(home))  # what the page's queue is set to
        users = add_users(Path(home), count)
        with rag_serve(
            Path(home),
            Settings().models_dir,
            "ui-load-bench",
            corpus=REPO / "docs",
            RAG_LLM_MODEL="smollm2-135m-instruct",
            RAG_LLM_MAX_TOKENS=str(args.max_tokens),
        ) as url:
            load_before = os.getloadavg()
            ask_together(url, users[:1], QUESTIONS[:1])  # warms the page's and model's caches
            started = time.perf_counter()
            asked = ask_together(url, users, QUESTIONS[:count])
            wall = time.perf_counter() - started
            outside = non_loopback_connections()
            load_after = os.getloadavg()
    problems = {a.user: p for a in asked if (p := a.problem())}
    return {
        "users": count,
        "llm_model": "smollm2-135m-instruct",
        "llm_max_tokens": args.max_tokens,
        "ui_concurrency_limit": server.ui_concurrency_limit,
        "ui_queue_size": server.ui_queue_size,
        "wait_to_first_output": timing([a.first_output_s or 0.0 for a in asked]),
        "first_word": timing([a.first_word_s or 0.0 for a in asked]),
        "total": timing([a.total_s or 0.0 for a in asked]),
        "all_answered_s": round(wall, 1),
        "max_queue_position": max((r for a in asked for r in a.ranks), default=None),
        "users_who_saw_a_position": sum(1 for a in asked if a.ranks),
        "positions_seen": {a.user: sorted(set(a.ranks), reverse=True) for a in asked},
        "errors": len(problems),
        "problems": problems,
        "non_loopback_connections": outside,
        "load_average_1_5_15": {"before": load_before, "after": load_after},
        "poll_s": POLL_S,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--users", type=int, default=20, help="simultaneous users")
    parser.add_argument("--max-tokens", type=int, default=64, help="answer length cap")


if __name__ == "__main__":
    part_main(run, __doc__, add_arguments)
