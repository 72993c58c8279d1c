from rag_app.chain.citations import clean_citations
from rag_app.types import Passage


def _passages(n: int) -> list[Passage]:
    return [Passage(n=i, text=f"text {i}", source=f"/docs/{i}.md") for i in range(1, n + 1)]


def test_valid_citations_are_kept_and_listed_in_order() -> None:
    text, cited, invalid = clean_citations("B is true [2]. A is true [1].", _passages(3))
    assert text == "B is true [2]. A is true [1]."
    assert [p.n for p in cited] == [1, 2]
    assert invalid == []


def test_numbers_without_a_passage_are_removed() -> None:
    written = "Claim [7]. Other claim [1, 9]. Again [7]."
    text, cited, invalid = clean_citations(written, _passages(2))
    assert text == "Claim. Other claim [1]. Again."
    assert [p.n for p in cited] == [1]
    assert invalid == [7, 9, 7]


def test_groups_and_ranges_are_split_into_single_markers() -> None:
    text, cited, _ = clean_citations("All of it [1-3], also [2,3].", _passages(3))
    assert text == "All of it [1][2][3], also [2][3]."
    assert [p.n for p in cited] == [1, 2, 3]


def test_no_citations_means_empty_list() -> None:
    text, cited, _ = clean_citations("Nothing cited here.", _passages(2))
    assert text == "Nothing cited here."
    assert cited == []
