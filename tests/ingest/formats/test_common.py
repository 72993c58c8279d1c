from ingest.formats.common import clean_text, markdown_table


def test_clean_text_rejoins_every_kind_of_line_end_hyphen() -> None:
    assert clean_text("infor-\nmation") == "information"
    assert clean_text("infor\u00ad\nmation and soft\u00adhyphen") == "information and softhyphen"
    assert clean_text("infor\x02\r\nmation\ufffe") == "information"  # pdfium's marks


def test_statement_table_keeps_labels_header_and_figures() -> None:
    """The shape pdfplumber gives for a 10-Q statement: spacer columns, "$" in a cell of its
    own, a two-row header whose first cell is blank."""
    rows = [
        ["", None, "Three Months Ended", None, "", "Nine Months Ended"],
        ["", None, "Jun 24, 2023", "", "", "Jun 24, 2023"],
        ["Net revenue", "$", "12,949", None, "$", "38,463"],
        ["Gross margin", None, "4,659", "", None, "(1,234)"],
        ["Margin", None, "36", "%", "", "40.1%"],
        [None, None, None, None, None, None],
    ]
    assert markdown_table(rows) == (
        "|  | Three Months Ended Jun 24, 2023 | Nine Months Ended Jun 24, 2023 |\n"
        "|---|---|---|\n"
        "| Net revenue | $12,949 | $38,463 |\n"
        "| Gross margin | 4,659 | (1,234) |\n"
        "| Margin | 36% | 40.1% |"
    )


def test_year_header_row_stays_in_the_header() -> None:
    rows = [["", "Year ended"], ["", "2023"], ["Sales", "1,000"]]
    assert markdown_table(rows).split("\n")[0] == "|  | Year ended 2023 |"


def test_cells_are_one_line_and_cannot_break_the_table() -> None:
    table = markdown_table([["a|b", "multi\nline"], [1.0, None], [2.5, "x"]])
    assert table.split("\n") == ["| a\\|b | multi line |", "|---|---|", "| 1 |  |", "| 2.5 | x |"]
    assert markdown_table([[None, ""], []]) == ""
