from ingest.splitting import segments, semantic_breaks, split_structured


def words(text: str) -> list[int]:
    return list(range(len(text.split())))


CODE = "```python\ndef f():\n\n    return 1\n\n\nprint(f())\n```"
TABLE = "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |"


def test_segments_find_code_and_tables_even_with_blank_lines_inside() -> None:
    text = f"Intro line.\n\n{CODE}\n\nMiddle.\n\n{TABLE}\n\nEnd # not a heading"
    kinds = [kind for kind, _ in segments(text)]
    assert kinds == ["prose", "code", "prose", "table", "prose"]
    assert dict((k, b) for k, b in segments(text) if k != "prose") == {"code": CODE, "table": TABLE}


def test_code_blocks_and_tables_are_never_cut_when_they_fit() -> None:
    prose = " ".join(f"Sentence {i} ends here." for i in range(40))
    text = f"{prose}\n\n{CODE}\n\n{prose}\n\n{TABLE}"
    pieces = split_structured(text, size=30, overlap=5, tokenize=words)
    assert sum(CODE in p for p in pieces) == 1
    assert sum(TABLE in p for p in pieces) == 1
    assert all(p.count("```") % 2 == 0 for p in pieces)


def test_small_neighbours_merge_so_an_intro_stays_with_its_code() -> None:
    pieces = split_structured(f"For example:\n\n{CODE}", size=40, overlap=5, tokenize=words)
    assert pieces == [f"For example:\n\n{CODE}"]


def test_oversized_blocks_split_into_valid_pieces() -> None:
    code = "```sh\n" + "\n".join(f"echo line {i}" for i in range(60)) + "\n```"
    pieces = split_structured(code, size=20, overlap=0, tokenize=words)
    assert len(pieces) > 1
    assert all(p.startswith("```sh\n") and p.endswith("\n```") for p in pieces)
    assert all(len(p.split()) <= 20 for p in pieces)
    body = [line for p in pieces for line in p.split("\n")[1:-1]]
    assert body == [f"echo line {i}" for i in range(60)]
    table = "| k | v |\n|---|---|\n" + "\n".join(f"| {i} | x |" for i in range(50))
    rows = split_structured(table, size=30, overlap=0, tokenize=words)
    assert len(rows) > 1 and all(r.startswith("| k | v |\n|---|---|") for r in rows)


def test_semantic_breaks_fall_at_the_least_similar_neighbours() -> None:
    # 25th percentile of (0.2, 0.8, 0.85, 0.9) is 0.65: only the 0.2 pair is a break
    assert semantic_breaks([0.9, 0.2, 0.8, 0.85], 75) == [1]
    assert semantic_breaks([0.5, 0.5], 95) == []  # no drop anywhere: no cut
    assert semantic_breaks([], 95) == []


def test_a_split_table_repeats_its_caption_and_header_in_every_piece() -> None:
    rows = "\n".join(f"| item {i} | {i * 10} |" for i in range(40))
    caption = "Condensed Statements of Income"
    text = f"Some prose before it.\n{caption}\n| Item | Value |\n|---|---|\n{rows}"
    pieces = split_structured(text, size=40, overlap=0, tokenize=words)
    tables = [p for p in pieces if "| item" in p]
    assert len(tables) > 1
    assert all(
        p.startswith("Condensed Statements of Income\n| Item | Value |\n|---|---|") for p in tables
    )
    assert [line for p in tables for line in p.split("\n")[3:]] == rows.split("\n")
    assert any(p.startswith("Some prose before it.") for p in pieces)
