import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops

from ingest.chunking import ChunkSizes, chunk_document
from ingest.loaders import load_document
from rag_app.errors import InvalidInput
from rag_app.types import Chunk
from rag_app.ui.page_image import find_passage, render_cited_page
from tests.conftest import SHARED_DATA

PAPER = SHARED_DATA / "aragog" / "papers" / "bert.pdf"
SCALE = 1.0


def words(text: str) -> list[int]:
    return list(range(len(text.split())))


@pytest.fixture(scope="module")
def children() -> list[Chunk]:
    """The paper's children as ingest cuts them: the passages a citation opens."""
    _, found = chunk_document(load_document(PAPER, 50 * 10**6), ChunkSizes(150, 20, 600), words)
    return found


def plain(page: int) -> Image.Image:
    pdf = pdfium.PdfDocument(PAPER)
    try:
        return pdf[page - 1].render(scale=SCALE).to_pil().convert("RGB")
    finally:
        pdf.close()


def first_word_centre(page: int, passage: str) -> tuple[float, float]:
    """Where pdfium itself finds the passage's first three words, in image pixels."""
    pdf = pdfium.PdfDocument(PAPER)
    try:
        textpage = pdf[page - 1].get_textpage()
        found = textpage.search(" ".join(passage.split()[:3])).get_next()
        assert found is not None
        left, bottom, right, top = textpage.get_charbox(found[0])
        height = pdf[page - 1].get_height()
    finally:
        pdf.close()
    return (left + right) / 2 * SCALE, (height - (top + bottom) / 2) * SCALE


def test_the_passage_is_marked_where_it_stands_on_its_page(children: list[Chunk]) -> None:
    child = next(c for c in children if c.page == 2 and c.text.startswith("word based"))
    shown = render_cited_page(PAPER, 2, child.text, scale=SCALE)
    assert shown.marked and shown.number == 2
    changed = ImageChops.difference(shown.image, plain(2)).getbbox()
    assert changed is not None
    x, y = first_word_centre(2, child.text)
    left, top, right, bottom = changed
    assert left <= x <= right and top <= y <= bottom
    assert (bottom - top) < shown.image.height / 2  # a passage, not the page


def test_every_passage_of_a_paper_is_found_on_its_page(children: list[Chunk]) -> None:
    shown = [render_cited_page(PAPER, c.page or 0, c.text, scale=0.2) for c in children]
    assert all(s.marked for s in shown)
    assert [s.number for s in shown] == [c.page for c in children]


def test_a_passage_further_on_shows_the_page_that_holds_it(children: list[Chunk]) -> None:
    child = next(c for c in children if c.page == 3)
    shown = render_cited_page(PAPER, 2, child.text, scale=SCALE)
    assert shown.marked and shown.number == 3


def test_a_passage_not_in_the_text_layer_leaves_the_cited_page_unmarked() -> None:
    shown = render_cited_page(PAPER, 4, "Water the tomato beds every morning.", scale=SCALE)
    assert not shown.marked and shown.number == 4
    assert ImageChops.difference(shown.image, plain(4)).getbbox() is None


def test_a_page_the_file_lacks_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no page 99"):
        render_cited_page(PAPER, 99, "anything")


def test_extraction_and_ingest_differences_do_not_hide_the_passage() -> None:
    page = "Intro.\r\nThe repre-\r\nsenta\ufffetion is ﬁne-tuned\r\non data. Next part."
    start, end = find_passage(page, "The representation is fine-tuned on data.") or (0, 0)
    assert page[start:end] == "The repre-\r\nsenta\ufffetion is ﬁne-tuned\r\non data"


def test_a_passage_whose_opening_differs_is_found_by_a_later_probe() -> None:
    body = "The quick brown fox jumps over the lazy dog near the river bank today. " * 2
    page = f"Header line\r\n{body}"
    passage = "# A heading ingest wrote\n\n| a | table | laid | out | anew | by | ingest |\n" + body
    start, _ = find_passage(page, passage) or (-1, 0)
    assert start > page.index(body)  # marked from the first probe found, inside the body
