"""`rag serve` as a user starts it: a real subprocess on a free loopback port, over a temporary
home with the fixture corpus ingested. Its log is kept under test-artifacts/."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ingest import ingest_paths
from rag_app.config import Settings
from tests.conftest import FIXTURES, REPO

ARTIFACTS = REPO / "test-artifacts"
STARTUP_SECONDS = 180  # imports and model warm-up on a busy CPU


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def rag_serve(
    home: Path,
    models_dir: Path,
    name: str,
    more: Sequence[Path] = (),
    corpus: Path = FIXTURES / "docs",
    **env: str,
) -> Iterator[str]:
    """Ingest `corpus` (the fixture corpus unless told) and the files `more` into `home`, start
    `rag serve` with `env` (RAG_* settings) and yield its URL once the page answers; stopped
    afterwards."""
    home.mkdir(parents=True, exist_ok=True)
    settings = Settings(home=home, models_dir=models_dir)
    report = ingest_paths([corpus, *more], settings)
    assert report.ok, report.failures()
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"{name}-server.log"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    environment = {**clean, "RAG_HOME": str(home), "RAG_MODELS_DIR": str(models_dir), **env}
    command = [sys.executable, "-m", "rag_app.cli", "serve", "--port", str(port)]
    with log_path.open("w") as log:
        server = subprocess.Popen(
            command, cwd=home, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}/"
            _wait_until_up(url, server, log_path)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"\nrag serve log: {log_path}")


def _wait_until_up(url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"rag serve exited with {server.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(url, timeout=5) as page:
                if page.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"rag serve did not answer within {STARTUP_SECONDS} s; see {log_path}")
