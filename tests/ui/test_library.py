from pathlib import Path

import pytest

from rag_app.config import Settings
from rag_app.ui.library import Library

BEES = "# Bee Keeping\n\n## Hives\n\nThe hives are checked every Friday by the bee team.\n"


def uploads(tmp_path: Path, files: dict[str, bytes]) -> list[str]:
    """Files as Gradio hands them over: in a temporary folder of its own."""
    folder = tmp_path / "gradio-upload"
    folder.mkdir(exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return [str(folder / name) for name in files]


def test_upload_reports_each_file_and_keeps_only_the_ingested(
    settings: Settings, tmp_path: Path
) -> None:
    library = Library(settings)
    files = uploads(tmp_path, {"bees.md": BEES.encode(), "data.xyz": b"1,2", "empty.txt": b""})
    rows = library.upload(files, "default")
    assert rows == [
        ["bees.md", "ingested", "1 chunk"],
        ["data.xyz", "failed", "unsupported file type '.xyz'"],
        ["empty.txt", "failed", "empty file"],
    ]
    kept = settings.uploads_dir
    assert sorted(p.name for p in kept.iterdir()) == ["bees.md"]
    assert library.documents("default") == [
        ["Bee Keeping", "markdown", "bees.md", str((kept / "bees.md").resolve())]
    ]
    assert library.upload(files[:1], "default") == [
        ["bees.md", "skipped", "unchanged: already ingested"]
    ]


def test_delete_removes_the_document_and_its_uploaded_copy(
    ingested: Settings, docs_dir: Path, tmp_path: Path
) -> None:
    library = Library(ingested)
    library.upload(uploads(tmp_path, {"bees.md": BEES.encode()}), "default")
    copy = str((ingested.uploads_dir / "bees.md").resolve())
    garden = str((docs_dir / "garden.md").resolve())
    assert library.delete([copy, garden], "default") == [
        ["bees.md", "removed", "removed from the collection"],
        ["garden.md", "removed", "removed from the collection"],
    ]
    assert not Path(copy).exists() and Path(garden).exists()  # the user's own file stays
    assert [row[2] for row in library.documents("default")] == ["notes.txt", "tools.md"]


def test_collections_are_found_and_new_names_checked(settings: Settings, tmp_path: Path) -> None:
    library = Library(settings)
    assert library.collections() == ["default"]
    assert library.documents("papers") == []
    library.upload(uploads(tmp_path, {"bees.md": BEES.encode()}), "papers")
    assert library.collections() == ["default", "papers"]
    assert [row[2] for row in library.documents("papers")] == ["bees.md"]
    assert library.documents("default") == []
    with pytest.raises(ValueError, match="collection"):
        library.documents("../escape")


def test_office_uploads_are_accepted_and_their_tables_counted(
    settings: Settings, tmp_path: Path
) -> None:
    import io

    import docx

    document = docx.Document()
    document.add_heading("Hive inspections", level=1)
    document.add_paragraph("The hives are checked every Friday by the bee team.")
    table = document.add_table(rows=2, cols=2)
    for cell, text in zip(table._cells, ["Hive", "Frames", "North", "10"], strict=True):
        cell.text = text
    data = io.BytesIO()
    document.save(data)
    rows = Library(settings).upload(uploads(tmp_path, {"hives.docx": data.getvalue()}), "default")
    assert rows == [["hives.docx", "ingested", "1 chunk, 1 table"]]


def test_tuning_runs_in_the_background_once_per_collection_and_reports_its_end(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from rag_app.errors import InvalidInput
    from rag_app.models.cards import (
        EmbedderCard,
        EmbedderValidation,
        RerankerCard,
        RerankerValidation,
        ValidationGain,
    )

    release = threading.Event()
    clear = ValidationGain(mean=0.2, low=0.1, high=0.3, questions=20)
    luck = ValidationGain(mean=0.03, low=0.0, high=0.08, questions=20)
    cards = {
        "embedder": EmbedderCard.model_construct(
            installed=True,
            validation=EmbedderValidation(metric="ndcg@10", base=0.5, tuned=0.7, gain=clear),
        ),
        "reranker": RerankerCard.model_construct(
            installed=False,
            validation=RerankerValidation(metric="ndcg@10", fused=0.9, trained={}, gain=luck),
        ),
    }

    def fake_tune(s: Settings, count: int, budget: float | None, on_stage):  # type: ignore[no-untyped-def]
        on_stage("generating questions", f"3 of {count} kept")
        release.wait(10)
        if s.collection == "broken":
            raise RuntimeError("no chunks")
        return cards

    monkeypatch.setattr("rag_app.tuning.tune_from_documents", fake_tune)
    library = Library(settings)
    job = library.start_tuning("default", count=50)
    assert library.tuning("default") is job and library.tuning("papers") is None
    with pytest.raises(InvalidInput, match="already being tuned"):
        library.start_tuning("default")
    assert "generating questions (3 of 50 kept)" in job.describe()
    failing = library.start_tuning("broken")
    release.set()
    for j in (job, failing):
        for _ in range(100):
            if j.finished is None:
                threading.Event().wait(0.05)
    assert job.describe().endswith(
        "embedder installed (gain +0.2000 [+0.1000, +0.3000] on 20 held-out questions); "
        "reranker not installed: no clear gain over what was there "
        "(gain +0.0300 [+0.0000, +0.0800] on 20 held-out questions)."
    )
    assert "failed while generating questions: no chunks" in failing.describe()
    assert library.start_tuning("default") is not job  # a finished job can be run again
