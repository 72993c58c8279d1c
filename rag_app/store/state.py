"""The committed state of a collection: documents, parents and children, in SQLite.

SQLite is the source of truth; Chroma and the BM25 index are derived from it. A document's rows
change in one transaction, so a process killed mid-ingest leaves either the old document or the
new one, never half of each. Retrieval keeps only hits whose child id is committed here.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rag_app.types import Chunk, Filters

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    mtime REAL NOT NULL,
    title TEXT,
    doc_type TEXT NOT NULL,
    root TEXT,
    ingested_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('parent', 'child')),
    source TEXT NOT NULL REFERENCES documents(source) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL,
    duplicate_of TEXT
);
CREATE INDEX IF NOT EXISTS chunks_by_source ON chunks(source, kind);
CREATE INDEX IF NOT EXISTS chunks_by_duplicate ON chunks(duplicate_of);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stale_vectors (id TEXT PRIMARY KEY);
"""


@dataclass(frozen=True)
class DocumentRecord:
    source: str
    content_hash: str
    mtime: float
    title: str | None
    doc_type: str
    root: str | None = None
    """The folder given to ingest that holds this file; pruning is scoped to it."""


@dataclass(frozen=True)
class DocumentRows:
    """A document's new version, as committed by `replace_documents`."""

    record: DocumentRecord
    parents: list[Chunk]
    children: list[Chunk]


@dataclass(frozen=True)
class Stats:
    documents: int
    parents: int
    chunks: int
    """Searchable children (each has a vector)."""
    duplicates: int
    """Children stored as a duplicate of another (no vector of their own)."""
    last_ingest: float | None


_IN_BATCH = 500
"""Values bound in one `IN (...)`: SQLite refuses a statement with more than 32,766, and one
large document's children are more than that."""


def _batches(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _IN_BATCH):
        yield values[start : start + _IN_BATCH]


def _marks(values: list[str]) -> str:
    return ",".join("?" * len(values))


class CollectionState:
    """SQLite-backed documents, parents and children of one collection."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- documents -------------------------------------------------------------------------
    def documents(self) -> dict[str, DocumentRecord]:
        rows = self._db.execute(
            "SELECT source, content_hash, mtime, title, doc_type, root FROM documents"
        )
        return {row[0]: DocumentRecord(*row) for row in rows}

    def replace_documents(self, documents: list[DocumentRows], stale: Iterable[str] = ()) -> None:
        """Swap these documents' rows for new ones atomically, and note in the same transaction
        the vectors that become stale (`stale_vectors`), so that a run killed before it deletes
        them leaves the job to the next run instead of leaving them behind. One transaction per
        ingest batch, not per document: a commit costs a journal sync, which dominated the
        ingest of many small files (SciFact: 5,183 abstracts)."""
        now = time.time()
        with self._transaction() as db:
            db.executemany("INSERT OR IGNORE INTO stale_vectors VALUES (?)", [(i,) for i in stale])
            db.executemany(
                "DELETE FROM documents WHERE source = ?", [(d.record.source,) for d in documents]
            )
            db.executemany(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (r.source, r.content_hash, r.mtime, r.title, r.doc_type, r.root, now)
                    for r in (d.record for d in documents)
                ],
            )
            rows = [
                (c.id, kind, d.record.source, i, c.text, json.dumps(c.metadata()), c.duplicate_of)
                for d in documents
                for kind, group in (("parent", d.parents), ("child", d.children))
                for i, c in enumerate(group)
            ]
            db.executemany("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            self._bump_generation(db)

    def remove_documents(self, sources: Iterable[str], stale: Iterable[str] = ()) -> None:
        with self._transaction() as db:
            db.executemany("INSERT OR IGNORE INTO stale_vectors VALUES (?)", [(i,) for i in stale])
            db.executemany("DELETE FROM documents WHERE source = ?", [(s,) for s in sources])
            self._bump_generation(db)

    def stale_vectors(self) -> list[str]:
        """Vector ids noted as stale that no committed searchable child uses."""
        rows = self._db.execute(
            "SELECT id FROM stale_vectors WHERE id NOT IN "
            "(SELECT id FROM chunks WHERE kind = 'child' AND duplicate_of IS NULL) ORDER BY id"
        )
        return [row[0] for row in rows]

    def forget_stale(self, ids: Iterable[str]) -> None:
        with self._transaction() as db:
            db.executemany("DELETE FROM stale_vectors WHERE id = ?", [(i,) for i in ids])

    # --- chunks ----------------------------------------------------------------------------
    def _chunks(self, where: str, params: tuple[object, ...]) -> list[Chunk]:
        rows = self._db.execute(
            f"SELECT id, text, metadata, duplicate_of FROM chunks WHERE {where} "
            "ORDER BY source, position",
            params,
        )
        return [
            Chunk.from_metadata(i, text, {**json.loads(meta), "duplicate_of": dup})
            for i, text, meta, dup in rows
        ]

    def children(self) -> list[Chunk]:
        """The searchable children: near-duplicates are represented by their canonical."""
        return self._chunks("kind = 'child' AND duplicate_of IS NULL", ())

    def child_ids(self, source: str) -> set[str]:
        """Ids of a document's searchable children, i.e. those that have a vector."""
        rows = self._db.execute(
            "SELECT id FROM chunks WHERE kind = 'child' AND duplicate_of IS NULL AND source = ?",
            (source,),
        )
        return {row[0] for row in rows}

    def document_children(self, source: str) -> list[Chunk]:
        """A document's searchable children in reading order."""
        return self._chunks("kind = 'child' AND duplicate_of IS NULL AND source = ?", (source,))

    def first_child(self, source: str) -> Chunk | None:
        """A document's first searchable child: its title and opening, the fallback passage
        for a labelled document that retrieval did not find."""
        found = self.document_children(source)
        return found[0] if found else None

    def child_ids_matching(self, filters: Filters) -> set[str]:
        """Searchable children inside `filters` (SQLite GLOB on the source path)."""
        clauses = ["kind = 'child'", "duplicate_of IS NULL"]
        params: list[str] = []
        if filters.source is not None:
            clauses.append("source GLOB ?")
            params.append(filters.source)
        if filters.sources is not None:
            clauses.append("source IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(filters.sources))
        if filters.doc_type is not None:
            clauses.append("json_extract(metadata, '$.doc_type') = ?")
            params.append(filters.doc_type)
        if filters.section is not None:
            clauses.append("lower(json_extract(metadata, '$.section')) LIKE ? ESCAPE '\\'")
            escaped = filters.section.lower().replace("\\", "\\\\").replace("%", "\\%")
            params.append(escaped.replace("_", "\\_") + "%")
        rows = self._db.execute(f"SELECT id FROM chunks WHERE {' AND '.join(clauses)}", params)
        return {row[0] for row in rows}

    def has_children(self) -> bool:
        row = self._db.execute("SELECT EXISTS (SELECT 1 FROM chunks WHERE kind = 'child')")
        return bool(row.fetchone()[0])

    def duplicate_sources(self, ids: list[str]) -> dict[str, list[str]]:
        """For canonical children: the other documents that hold the same text."""
        found: dict[str, list[str]] = {}
        for batch in _batches(ids):
            rows = self._db.execute(
                "SELECT DISTINCT duplicate_of, source FROM chunks "
                f"WHERE duplicate_of IN ({_marks(batch)}) ORDER BY source",
                batch,
            )
            for canonical, source in rows:
                found.setdefault(canonical, []).append(source)
        return found

    def children_with_text(self, texts: list[str], exclude_sources: list[str]) -> dict[str, str]:
        """Searchable children of other documents whose text is exactly one of `texts`."""
        found: dict[str, str] = {}
        for batch in _batches(texts):
            rows = self._db.execute(
                "SELECT text, id FROM chunks WHERE kind = 'child' AND duplicate_of IS NULL "
                f"AND text IN ({_marks(batch)}) AND source NOT IN ({_marks(exclude_sources)})",
                [*batch, *exclude_sources],
            )
            found.update(rows)
        return found

    def orphaned_duplicates(self) -> list[Chunk]:
        """Duplicates whose canonical is gone (its document changed or was removed)."""
        return self._chunks(
            "duplicate_of IS NOT NULL AND duplicate_of NOT IN (SELECT id FROM chunks)", ()
        )

    def set_duplicate_of(self, ids: list[str], canonical: str | None) -> None:
        with self._transaction() as db:
            db.executemany(
                "UPDATE chunks SET duplicate_of = ? WHERE id = ?", [(canonical, i) for i in ids]
            )
            self._bump_generation(db)

    def get_many(self, ids: list[str]) -> dict[str, Chunk]:
        found: dict[str, Chunk] = {}
        for batch in _batches(ids):
            found.update((c.id, c) for c in self._chunks(f"id IN ({_marks(batch)})", tuple(batch)))
        return found

    # --- bookkeeping -----------------------------------------------------------------------
    def _bump_generation(self, db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO meta VALUES ('generation', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
                (key, value, value),
            )

    @property
    def generation(self) -> int:
        """Grows on every committed change; derived indexes record the one they were built at."""
        value = self.meta("generation")
        return int(value) if value else 0

    def stats(self) -> Stats:
        docs, last = self._db.execute("SELECT COUNT(*), MAX(ingested_at) FROM documents").fetchone()
        counts = dict(
            self._db.execute(
                "SELECT CASE WHEN kind = 'parent' THEN 'parent' WHEN duplicate_of IS NULL "
                "THEN 'child' ELSE 'duplicate' END AS k, COUNT(*) FROM chunks GROUP BY k"
            )
        )
        return Stats(
            docs,
            counts.get("parent", 0),
            counts.get("child", 0),
            counts.get("duplicate", 0),
            last,
        )
