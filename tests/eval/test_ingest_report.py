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


def test_comparison_lists_changed_and_failed_files() -> None:
    from eval.ingest_report import comparison_markdown

    def run(label: str, rows: list[dict[str, object]], crashed: str | None) -> dict[str, object]:
        outcomes: dict[str, int] = {}
        for row in rows:
            outcomes[str(row["outcome"])] = outcomes.get(str(row["outcome"]), 0) + 1
        return {"label": label, "crashed": crashed, "files": len(rows), "outcomes": outcomes,
                "seconds": 1.0, "chunks": 3, "chunks_per_s": None, "tables": 0,
                "pages_without_text": 0, "by_file": rows}  # fmt: skip

    def row(file: str, outcome: str, reason: str | None = None) -> dict[str, object]:
        return {"file": file, "outcome": outcome, "reason": reason, "warnings": []}

    before = run("before", [row("a.pdf", "failed", "encrypted PDF"), row("b.md", "ingested")], "X")
    after = run("after", [row("a.pdf", "ingested"), row("b.md", "ingested")], None)
    text = comparison_markdown(before, after)
    assert "| run crashed | X | no |" in text and "| pdf | 1 | 0 | 1 |" in text
    assert "| a.pdf | failed: encrypted PDF | ingested |" in text and "b.md |" not in text
