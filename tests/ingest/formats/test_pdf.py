"""PDF loading on a real paper (ARAGOG's DistilBERT PDF) and on copies of it made the way
real-world files come: owner-password encrypted, with a scanned page, unreadable to pdfium."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from ingest.formats import pdf
from ingest.formats.common import IngestError
from ingest.loaders import ParseOptions, load_document
from tests.conftest import SHARED_DATA

PAPER = SHARED_DATA / "aragog" / "papers" / "distilbert.pdf"


def write(path: Path, writer: PdfWriter) -> Path:
    with path.open("wb") as out:
        writer.write(out)
    return path


def encrypted_copy(path: Path, user_password: str, algorithm: str = "AES-128") -> Path:
    writer = PdfWriter(clone_from=PdfReader(PAPER))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    return write(path, writer)


@pytest.mark.parametrize("algorithm", ["AES-128", "RC4-128"])
def test_owner_password_pdf_reads_like_the_original(tmp_path: Path, algorithm: str) -> None:
    original = load_document(PAPER, 10**8)
    copy = load_document(encrypted_copy(tmp_path / "owner.pdf", "", algorithm), 10**8)
    assert [p.number for p in copy.pages] == [p.number for p in original.pages]
    assert copy.text == original.text and "DistilBERT" in copy.text


def test_pdf_that_needs_a_password_fails_saying_so(tmp_path: Path) -> None:
    locked = encrypted_copy(tmp_path / "locked.pdf", "letmein")
    with pytest.raises(IngestError, match="needs a password"):
        load_document(locked, 10**8)


def test_pypdf_reads_what_pdfium_cannot_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(data: bytes) -> tuple[list[str], str | None]:
        raise RuntimeError("pdfium cannot open this one")

    monkeypatch.setitem(pdf.EXTRACTORS, "pdfium", broken)
    doc = load_document(PAPER, 10**8, ParseOptions(pdf_tables=False))
    assert "DistilBERT" in doc.text and len(doc.pages) >= 5


def test_unreadable_pdf_names_every_parser_that_tried(tmp_path: Path) -> None:
    half = tmp_path / "truncated.pdf"
    data = PAPER.read_bytes()
    half.write_bytes(data[:2000])
    with pytest.raises(IngestError, match=r"unreadable PDF \(pdfium: .*; pypdf: .*\)"):
        load_document(half, 10**8)


def scanned_copy(path: Path, scanned_pages: Sequence[int]) -> Path:
    """The paper with the given 0-based pages replaced by pictures of themselves, as a
    scanner makes them: no text layer."""
    import pypdfium2 as pdfium
    from PIL import Image

    document = pdfium.PdfDocument(PAPER.read_bytes())
    images: list[Image.Image] = []
    for i in scanned_pages:
        images.append(document[i].render(scale=150 / 72).to_pil().convert("RGB"))
    document.close()
    scan = io.BytesIO()
    images[0].save(scan, format="PDF", save_all=True, append_images=images[1:], resolution=150)
    reader, scanned = PdfReader(PAPER), PdfReader(scan)
    writer = PdfWriter()
    pictures = iter(scanned.pages)
    for i, page in enumerate(reader.pages):
        writer.add_page(next(pictures) if i in scanned_pages else page)
    return write(path, writer)


def test_pages_without_text_layer_are_named_in_a_warning(tmp_path: Path) -> None:
    doc = load_document(scanned_copy(tmp_path / "scan.pdf", [1, 2, 4]), 10**8, ParseOptions())
    assert 2 not in {p.number for p in doc.pages} and 1 in {p.number for p in doc.pages}
    assert doc.warnings == [
        "no text layer on pages 2-3, 5: OCR is needed to read them (install tesseract-ocr)"
    ]


def test_a_scan_without_any_text_fails_with_the_remedy(tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    pages = len(pdfium.PdfDocument(PAPER.read_bytes()))
    with pytest.raises(IngestError, match=f"no text layer on any of its {pages} pages"):
        load_document(scanned_copy(tmp_path / "scan.pdf", range(pages)), 10**8)


class FakeOcr:
    def __init__(self) -> None:
        self.asked: list[int] = []

    def read_pdf_pages(self, data: bytes, indices: Sequence[int]) -> list[str]:
        self.asked += indices
        return [f"recognised text of page {i + 1}" for i in indices]


def test_ocr_reads_exactly_the_pages_without_text(tmp_path: Path) -> None:
    ocr = FakeOcr()
    options = ParseOptions(ocr=ocr)  # type: ignore[arg-type]
    doc = load_document(scanned_copy(tmp_path / "scan.pdf", [1, 2]), 10**8, options)
    assert ocr.asked == [1, 2] and doc.warnings == []
    assert dict((p.number, p.text) for p in doc.pages)[3] == "recognised text of page 3"


@pytest.mark.skipif(
    not pdf.Ocr.find() and not os.environ.get("RAG_REQUIRE_OCR"),
    reason="tesseract-ocr is not installed (optional; CI installs it and sets RAG_REQUIRE_OCR=1)",
)
def test_tesseract_reads_a_scanned_page(tmp_path: Path) -> None:
    doc = load_document(
        scanned_copy(tmp_path / "scan.pdf", [0]), 10**8, ParseOptions(ocr=pdf.Ocr.find())
    )
    first = dict((p.number, p.text) for p in doc.pages)[1]
    assert "DistilBERT" in first and "distilled version of BERT" in " ".join(first.split())


def table_pdf(path: Path) -> Path:
    """A one-page PDF with a ruled table under a caption, drawn by matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8.5, 11))
    axes.axis("off")
    figure.text(0.1, 0.9, "Condensed Consolidated Statements of Income", fontsize=14)
    figure.text(0.1, 0.87, "(In millions; unaudited)", fontsize=10)
    cells = [
        ["Net revenue", "12,949", "15,321"],
        ["Cost of sales", "8,311", "9,734"],
        ["Gross margin", "4,638", "5,587"],
        ["Net income", "1,473", "(454)"],
    ]
    axes.table(
        cellText=cells,
        colLabels=["", "Q3 2023", "Q3 2022"],
        bbox=(0.0, 0.55, 1.0, 0.3),
    )
    figure.text(0.1, 0.3, "Revenue fell by 1,234 and 5,678 in the 2 segments.", fontsize=10)
    figure.savefig(path, format="pdf")
    plt.close(figure)
    return path


def test_tables_become_markdown_with_header_and_labels(tmp_path: Path) -> None:
    doc = load_document(table_pdf(tmp_path / "statement.pdf"), 10**8)
    assert doc.tables == 1
    text = doc.pages[0].text
    assert "| | Q3 2023 | Q3 2022 |" in text.replace("|  |", "| |")
    assert "| Net revenue | 12,949 | 15,321 |" in text and "| Net income | 1,473 | (454) |" in text
    caption, table, after = (
        text.index("Statements of Income"),
        text.index("| Net revenue"),
        text.index("Revenue fell"),
    )
    assert caption < table < after  # reading order kept around the table
    assert text.count("12,949") == 1  # the table's text is not repeated as plain text
    plain = load_document(tmp_path / "statement.pdf", 10**8, ParseOptions(pdf_tables=False))
    assert plain.tables == 0 and "| Net revenue" not in plain.text


def test_only_pages_that_look_tabular_go_to_table_detection() -> None:
    statement = "Net revenue $ 12,949 $ 15,321\nCost 8,311 9,734\nGross 4,638 5,587\nNet 1 2\n"
    assert pdf.looks_tabular("Condensed Statements of Income\n" + statement)
    prose = "We trained for 3 epochs in 2019 on 8 GPUs, see [12] and [13].\n"
    references = "[4] A. Author. Title. In Proc. ACL 2019, pages 1234-1240, 2019.\n"
    assert not pdf.looks_tabular(prose * 10 + references * 10)
    assert not pdf.looks_tabular(prose * 30 + statement)  # four figure rows among 34 lines


def test_charts_and_broken_detections_are_not_tables() -> None:
    words = {"net", "revenue", "cost", "of", "sales", "q3", "2023", "2022", "12", "949", "8", "311"}
    good = (
        "| | Q3 2023 | Q3 2022 |\n|---|---|---|\n"
        "| Net revenue | 12,949 | 8,311 |\n| Cost | 8 | 12 |"
    )
    assert pdf.plausible_table(good, words)
    fragments = good.replace("Net revenue", "Ne t reve").replace("Cost", "nue Co")
    assert not pdf.plausible_table(fragments, words)  # cut inside words
    empty = "| a | b | c |\n|---|---|---|\n| 12 |  |  |\n|  |  | 8 |"
    assert not pdf.plausible_table(empty, words | {"a", "b", "c"})
    legend = " ".join(sorted(words))
    chart = f"| {legend} | x |\n|---|---|\n| {legend} | 8 |\n| {legend} | 12 |"
    assert not pdf.plausible_table(chart, words | {"x"})


def test_file_name_titles_give_way_to_the_file_name() -> None:
    assert pdf._useful_title("Microsoft Word - 10Q.docx") is None
    assert pdf._useful_title("untitled") is None
    assert (
        pdf._useful_title(" DistilBERT, a distilled\n version ")
        == "DistilBERT, a distilled version"
    )


def test_rows_stacked_in_one_box_per_column_are_unstacked() -> None:
    rows = [["How many", "Total"], ["Files\nDirectories\nDevelopers", "17243\n1005\n14"]]
    assert pdf.unstack_rows(rows) == [
        ["How many", "Total"],
        ["Files", "17243"],
        ["Directories", "1005"],
        ["Developers", "14"],
    ]
    ragged = [["Note\nspanning two lines", "3"]]
    assert pdf.unstack_rows(ragged) == ragged  # line counts differ: a wrapped cell, kept
