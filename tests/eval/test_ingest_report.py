from pathlib import Path

from eval.ingest_report import pages_named, run


def test_pages_named_counts_ranges() -> None:
    assert pages_named("no text layer on pages 2-3, 5, 9-12: OCR is needed") == 7
    assert pages_named("no text layer on page 4: OCR is needed") == 1
    assert pages_named("tables not extracted (ValueError: x)") == 0


def test_report_counts_each_file_and_the_failures(docs_dir: Path) -> None:
    (docs_dir / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    (docs_dir / "figures.csv").write_text("Quarter,Revenue\nQ1,1200\nQ2,1350\n")
    result = run([docs_dir], "test")
    assert result["crashed"] is None and result["files"] == 5
    assert result["outcomes"] == {"ingested": 4, "failed": 1}
    assert list(result["failures"]) == ["docs/broken.pdf"]
    assert "unreadable PDF" in result["failures"]["docs/broken.pdf"]
    assert result["tables"] == 1 and result["chunks"] > 0
