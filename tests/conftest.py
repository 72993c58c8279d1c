"""Shared fixtures: a clean RAG_HOME per test, the fixture corpus, fake LLMs, a socket guard."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import rag_app  # noqa: F401  (sets the offline environment first)
from ingest.pipeline import Ingestor
from rag_app.config import Settings, get_settings

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


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
