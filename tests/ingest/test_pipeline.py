import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from ingest.formats.common import Parsed
from ingest.loaders import SourceDocument
from ingest.pipeline import Ingestor
from rag_app.config import Settings
from rag_app.store.state import DocumentRows


def test_ingest_is_incremental(settings: Settings, docs_dir: Path) -> None:
    ingestor = Ingestor(settings)
    first = ingestor.run([docs_dir])
    assert first.ok and first.count("ingested") == 3 and first.embedded == first.chunks
    stats = ingestor.store.state.stats()
    assert stats.documents == 3 and stats.chunks == ingestor.store.vectors.count()

    again = ingestor.run([docs_dir])
    assert again.count("skipped") == 3 and again.embedded == 0

    garden = docs_dir / "garden.md"
    garden.write_text(garden.read_text() + "\n## Bees\n\nThe beehive is behind the greenhouse.\n")
    (docs_dir / "notes.txt").unlink()
    changed = ingestor.run([docs_dir])
    assert changed.count("ingested") == 1 and changed.count("removed") == 1
    assert 0 < changed.embedded < changed.chunks  # unchanged chunks came from the cache
    state = ingestor.store.state
    assert set(Path(s).name for s in state.documents()) == {"garden.md", "tools.md"}
    assert state.stats().chunks == ingestor.store.vectors.count()
    hits = ingestor.store.bm25().search("beehive greenhouse", 3)
    assert hits and "beehive" in state.get_many([hits[0][0]])[hits[0][0]].text
    ingestor.store.close()


def test_bad_files_fail_alone_and_keep_what_was_stored(settings: Settings, docs_dir: Path) -> None:
    ingestor = Ingestor(settings)
    assert ingestor.run([docs_dir]).ok
    (docs_dir / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (docs_dir / "empty.md").write_bytes(b"")
    report = ingestor.run([docs_dir])
    failed = {Path(f.source).name: f.reason for f in report.files if f.outcome == "failed"}
    assert set(failed) == {"broken.pdf", "empty.md"} and "empty" in str(failed["empty.md"])
    assert not report.ok and report.count("skipped") == 3
    assert ingestor.store.state.stats().documents == 3
    ingestor.store.close()


def test_no_prune_keeps_vanished_files(settings: Settings, docs_dir: Path) -> None:
    ingestor = Ingestor(settings)
    ingestor.run([docs_dir])
    (docs_dir / "notes.txt").unlink()
    report = ingestor.run([docs_dir], prune=False)
    assert report.count("removed") == 0
    assert ingestor.store.state.stats().documents == 3
    ingestor.store.close()


def test_remove_takes_out_rows_vectors_and_keywords(settings: Settings, docs_dir: Path) -> None:
    ingestor = Ingestor(settings)
    assert ingestor.run([docs_dir]).ok
    garden = str((docs_dir / "garden.md").resolve())
    report = ingestor.remove([garden, garden, "/nowhere/else.md"])
    assert [(f.source, f.outcome) for f in report.files] == [
        (garden, "removed"),
        ("/nowhere/else.md", "failed"),
    ]
    assert report.failures() == ["/nowhere/else.md: not in the collection"]
    state = ingestor.store.state
    assert garden not in state.documents()
    assert ingestor.store.vectors.ids_for_sources([garden]) == set()
    assert state.stats().chunks == ingestor.store.vectors.count()
    hits = ingestor.store.bm25().search("tomato beds rain barrel", 5)
    assert all(state.get_many([i])[i].source != garden for i, _ in hits)
    ingestor.store.close()


class Killed(BaseException):
    """Stands in for the process dying (not an Exception, so nothing catches it)."""


def test_stale_vectors_of_a_run_killed_after_commit_are_deleted_by_the_next_run(
    settings: Settings, docs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingestor = Ingestor(settings)
    assert ingestor.run([docs_dir]).ok
    garden = docs_dir / "garden.md"
    garden.write_text("# Garden\n\nOnly one paragraph is left of the garden notes.\n")

    def die(ids: list[str]) -> None:
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(ingestor.store.vectors, "delete", die)
        with pytest.raises(Killed):
            ingestor.run([docs_dir])
    state = ingestor.store.state
    # The new version is committed; its stale vectors are noted, not yet deleted.
    assert state.stale_vectors()
    assert ingestor.store.vectors.count() > state.stats().chunks

    report = ingestor.run([docs_dir])  # nothing changed since: every file is skipped
    assert report.count("skipped") == 3
    assert state.stale_vectors() == []
    assert ingestor.store.vectors.count() == state.stats().chunks
    ingestor.store.close()


def test_a_batch_of_changed_documents_is_swapped_in_one_transaction(
    settings: Settings, docs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingestor = Ingestor(settings)
    assert ingestor.run([docs_dir]).ok
    state = ingestor.store.state
    old_ids = {s: ingestor.store.vectors.ids_for_sources([s]) for s in state.documents()}
    for name in ("garden.md", "guide/tools.md"):
        (docs_dir / name).write_text(f"# {name}\n\nA rewritten page, {name}, in few words.\n")
    calls: list[list[str]] = []
    replace = state.replace_documents

    def spy(documents: list[DocumentRows], stale: Iterable[str] = ()) -> None:
        calls.append(sorted(Path(d.record.source).name for d in documents))
        replace(documents, stale)

    monkeypatch.setattr(state, "replace_documents", spy)
    report = ingestor.run([docs_dir])
    assert report.count("ingested") == 2 and report.count("skipped") == 1
    assert calls == [["garden.md", "tools.md"]]
    new_ids = ingestor.store.vectors.ids_for_sources(list(old_ids))
    changed = {s: ids for s, ids in old_ids.items() if Path(s).name != "notes.txt"}
    assert all(not (ids & new_ids) for ids in changed.values())  # old versions' vectors gone
    assert state.stale_vectors() == [] and len(new_ids) == state.stats().chunks
    ingestor.store.close()


class ParserBugFromANewRelease(Exception):
    """An exception type no loader knows about, as a parser's next release may add one."""


def test_any_parser_exception_fails_that_file_alone(
    settings: Settings, docs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest import loaders

    real = loaders._loader

    def loader(doc_type: str, options: loaders.ParseOptions) -> Callable[[bytes], Parsed]:
        parse = real(doc_type, options)

        def parse_or_raise(data: bytes) -> Parsed:
            if b"# Tool Shed" in data:  # guide/tools.md, the middle one of three in order
                raise ParserBugFromANewRelease("Reached maximum array element count.")
            return parse(data)

        return parse_or_raise

    monkeypatch.setattr(loaders, "_loader", loader)
    ingestor = Ingestor(settings.updated(ingest_batch_chunks=1))  # every file its own commit
    report = ingestor.run([docs_dir])
    outcomes = {Path(f.source).name: (f.outcome, f.reason) for f in report.files}
    assert outcomes["tools.md"] == (
        "failed",
        "markdown parser failed (ParserBugFromANewRelease: Reached maximum array element count.)",
    )
    assert outcomes["garden.md"][0] == outcomes["notes.txt"][0] == "ingested"
    assert set(Path(s).name for s in ingestor.store.state.documents()) == {"garden.md", "notes.txt"}
    ingestor.store.close()


def test_interrupts_and_store_errors_still_end_the_run_keeping_committed_work(
    settings: Settings, docs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest import loaders

    ingestor = Ingestor(settings.updated(ingest_batch_chunks=1))
    real = loaders.parse
    seen: list[str] = []

    def interrupted(raw: loaders.RawFile, options: loaders.ParseOptions) -> SourceDocument:
        seen.append(raw.path.name)
        if len(seen) == 2:
            raise KeyboardInterrupt
        return real(raw, options)

    with monkeypatch.context() as patched:
        patched.setattr("ingest.pipeline.parse", interrupted)
        with pytest.raises(KeyboardInterrupt):
            ingestor.run([docs_dir])
    assert [Path(s).name for s in ingestor.store.state.documents()] == [seen[0]]

    def broken_store(*args: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    with monkeypatch.context() as patched:
        patched.setattr(ingestor.store.vectors, "upsert", broken_store)
        with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
            ingestor.run([docs_dir])
    assert [Path(s).name for s in ingestor.store.state.documents()] == [seen[0]]
    ingestor.store.close()


def test_warnings_and_tables_reach_the_report(
    settings: Settings, docs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest import loaders

    def scanned_in_part(doc_type: str, options: loaders.ParseOptions) -> Callable[..., Parsed]:
        return lambda data: Parsed(
            text="| Quarter | Revenue |\n|---|---|\n| Q1 | 1200 |",
            tables=1,
            warnings=["no text layer on page 2: OCR is needed to read it"],
        )

    monkeypatch.setattr(loaders, "_loader", scanned_in_part)
    report = Ingestor(settings).run([docs_dir / "notes.txt"])
    (result,) = report.files
    assert result.outcome == "ingested" and result.tables == 1
    assert report.warnings() == [
        f"{result.source}: no text layer on page 2: OCR is needed to read it"
    ]
