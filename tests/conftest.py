"""Shared fixtures: a clean RAG_HOME per test, the fixture corpus, fake LLMs, a socket guard,
and a guard that keeps the `integration` marker honest."""

from __future__ import annotations

import functools
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import rag_app  # noqa: F401  (sets the offline environment first)
from ingest.pipeline import Ingestor
from rag_app.config import Settings, get_settings

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


_REAL_MODEL_RUNS: list[str] = []
"""What ran real weights in this process, one entry per call (see `_watch_real_models`)."""


def _watch(owner: Any, name: str, what: str) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(original)
    def watched(*args: Any, **kwargs: Any) -> Any:
        _REAL_MODEL_RUNS.append(what)
        return original(*args, **kwargs)

    setattr(owner, name, watched)


def pytest_configure(config: pytest.Config) -> None:
    """Every entry point that runs a real model's weights in-process: the bi-encoder, the
    cross-encoder (PyTorch or ONNX) and llama.cpp. Models load once per process, so the calls
    are watched, not the loads."""
    from sentence_transformers import CrossEncoder

    from rag_app.models.embeddings import Embedder
    from rag_app.models.llamacpp import SerialChatLlamaCpp
    from rag_app.models.onnx_reranker import OnnxCrossEncoder

    _watch(Embedder, "_encode", "the bi-encoder")
    _watch(CrossEncoder, "predict", "a cross-encoder")
    _watch(OnnxCrossEncoder, "predict", "a cross-encoder")
    _watch(SerialChatLlamaCpp, "_generate", "llama.cpp")
    _watch(SerialChatLlamaCpp, "_stream", "llama.cpp")


@pytest.fixture(autouse=True)
def _real_models_only_when_marked(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, rag_home: Path
) -> Iterator[None]:
    """A test that runs real weights must say so (`integration`): those are the slow tests, and
    the rest must stay runnable without them. Unmarked tests get the hashing encoder wherever a
    store would load the configured bi-encoder, and a support threshold on its scale: its
    cosines count shared words, lower than the real bi-encoder's that `min_support` is
    calibrated on. Subprocesses are not watched."""
    integration = request.node.get_closest_marker("integration") is not None
    if not integration:
        from tests.fakes import HashingEmbedder

        monkeypatch.setenv("RAG_MIN_SUPPORT", "0.5")
        get_settings.cache_clear()

        fakes: dict[str, HashingEmbedder] = {}

        def fake_embedder(name: str, batch_size: int = 32) -> HashingEmbedder:
            return fakes.setdefault(name, HashingEmbedder(dimension=256, name=name))

        monkeypatch.setattr("rag_app.store.get_embedder", fake_embedder)
    before = len(_REAL_MODEL_RUNS)
    yield
    used = sorted(set(_REAL_MODEL_RUNS[before:]))
    if used and not integration:
        pytest.fail(
            f"ran {', '.join(used)} without @pytest.mark.integration: mark it, or use the "
            "fakes (tests.fakes.HashingEmbedder, RecordingLLM, ScriptedReranker)",
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def rag_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_models_dir: Path
) -> Iterator[Path]:
    """Every test gets an empty RAG_HOME; no test sees another's state or a user's config."""
    home = tmp_path / "rag_home"
    for key in list(__import__("os").environ):
        if key.startswith("RAG_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("RAG_HOME", str(home))
    monkeypatch.setenv("RAG_MODELS_DIR", str(shared_models_dir))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture
def settings(rag_home: Path) -> Settings:
    return Settings(home=rag_home)


@pytest.fixture
def ingested(settings: Settings, docs_dir: Path) -> Settings:
    ingestor = Ingestor(settings)
    assert ingestor.run([docs_dir]).ok
    ingestor.store.close()
    return settings


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    """A writable copy of the fixture corpus (tests change and delete files in it)."""
    target = tmp_path / "docs"
    shutil.copytree(FIXTURES / "docs", target)
    return target


@pytest.fixture(scope="session")
def shared_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One assembled-model cache for the whole run: assembling a GGUF twice is wasted time."""
    return tmp_path_factory.mktemp("models")


class NetworkBlocked(OSError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Refuse every non-loopback connection and record the attempts."""
    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def loopback(address: object) -> bool:
        if isinstance(address, tuple):
            host = str(address[0])
            return host in {"localhost", "::1"} or host.startswith("127.") or host == "0.0.0.0"
        return True  # AF_UNIX paths

    def guarded_connect(self: socket.socket, address: object) -> None:
        if not loopback(address):
            attempts.append(address)
            raise NetworkBlocked(f"network access blocked in tests: {address}")
        return real_connect(self, address)  # type: ignore[arg-type]

    def guarded_connect_ex(self: socket.socket, address: object) -> int:
        if not loopback(address):
            attempts.append(address)
            raise NetworkBlocked(f"network access blocked in tests: {address}")
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    def guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host not in (None, "localhost", "127.0.0.1", "::1", "0.0.0.0"):
            attempts.append(host)
            raise NetworkBlocked(f"DNS lookup blocked in tests: {host}")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    return attempts
