"""Embeddings cached by (model, text) hash, so an unchanged chunk is never embedded twice."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np

from rag_app.protocols import TextEncoder


def _key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()


class EmbeddingCache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, v BLOB)")

    def close(self) -> None:
        self._db.close()

    def encode(
        self, embedder: TextEncoder, texts: list[str], show_progress: bool = False
    ) -> tuple[np.ndarray, int]:
        """Vectors for `texts` (passages), and how many had to be computed."""
        keys = [_key(embedder.name, t) for t in texts]
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            batch = keys[start : start + 500]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(f"SELECT key, v FROM vectors WHERE key IN ({marks})", batch)
            found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
        if todo:
            fresh = embedder.encode_passages(list(todo.values()), show_progress)
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                    [(k, v.tobytes()) for k, v in zip(todo, fresh, strict=True)],
                )
            found.update(zip(todo, fresh, strict=True))
        if not keys:
            return np.zeros((0, embedder.dimension), dtype=np.float32), 0
        return np.stack([found[k] for k in keys]), len(todo)
