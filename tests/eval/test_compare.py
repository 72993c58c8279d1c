import json
import math
from pathlib import Path
from typing import Any

import pytest

from eval.compare import compare_runs
from rag_app.cli import main


def _line(qid: str, answerable: bool = True, **fields: Any) -> dict[str, Any]:
    return {"id": qid, "answerable": answerable, "abstained": False, **fields}


def _write(folder: Path, lines: list[dict[str, Any]], torn: str = "") -> Path:
    folder.mkdir(parents=True)
    text = "".join(json.dumps(line, allow_nan=True) + "\n" for line in lines)
    (folder / "answers.jsonl").write_text(text + torn)
    return folder


def _scored(qid: str, similarity: float, first_token: float) -> dict[str, Any]:
    return _line(
        qid, scores={"string_similarity": similarity}, timings={"first_token": first_token}
    )


def test_metrics_pair_by_question_and_use_each_questions_last_line(tmp_path: Path) -> None:
    a = _write(
        tmp_path / "a",
        [
            _line("q1", scores=None),  # answered, not yet scored: superseded below
            _scored("q1", 0.2, 10.0),
            _scored("q2", 0.4, 12.0),
            _scored("q3", math.nan, 11.0),
            _scored("only-in-a", 0.9, 1.0),
        ],
    )
    b = _write(
        tmp_path / "b",
        [_scored("q3", 0.5, 5.0), _scored("q2", 0.5, 6.0), _scored("q1", 0.3, 4.0)],
        torn='{"id": "q4", "answ',  # a run killed mid-append
    )
    rows = {row.metric: row for row in compare_runs(a, b)}

    similarity = rows["string_similarity"]
    assert similarity.questions == 2  # q3 is NaN in A: left out, not counted as 0
    assert similarity.baseline == pytest.approx(0.3)
    assert similarity.other == pytest.approx(0.4)
    assert similarity.difference == pytest.approx(0.1)
    assert similarity.low == pytest.approx(0.1) and similarity.measured

    latency = rows["first_token_s"]
    assert latency.questions == 3
    assert latency.difference == pytest.approx(-6.0)
    assert latency.high < 0 and latency.measured
    assert "faithfulness" not in rows  # measured by neither run


def test_a_difference_within_noise_is_not_called_measured(tmp_path: Path) -> None:
    ups = [_scored(f"q{i}", 0.5, 1.0) for i in range(4)]
    downs = [_scored(f"q{i}", 0.5 + (0.2 if i % 2 else -0.2), 1.0) for i in range(4)]
    row = next(
        r
        for r in compare_runs(_write(tmp_path / "a", ups), _write(tmp_path / "b", downs))
        if r.metric == "string_similarity"
    )
    assert row.low < 0 < row.high and not row.measured


def test_unanswerable_questions_are_compared_on_abstention_only(tmp_path: Path) -> None:
    a = [_line(f"u{i}", answerable=False, scores={}) for i in range(3)]
    b = [{**line, "abstained": True} for line in a]
    rows = compare_runs(_write(tmp_path / "a", a), _write(tmp_path / "b", b))
    assert [(r.metric, r.questions, r.difference) for r in rows] == [
        ("abstained (unanswerable)", 3, 1.0)
    ]


def test_bad_folders_are_named(tmp_path: Path) -> None:
    a = _write(tmp_path / "a", [_scored("q1", 0.1, 1.0)])
    b = _write(tmp_path / "b", [_scored("other", 0.1, 1.0)])
    with pytest.raises(ValueError, match="share no question"):
        compare_runs(a, b)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"empty: no answers\.jsonl"):
        compare_runs(a, tmp_path / "empty")
    broken = _write(tmp_path / "broken", [], torn="not json\n" + json.dumps(_line("q1")) + "\n")
    with pytest.raises(ValueError, match=r"answers\.jsonl:1: not JSON"):
        compare_runs(a, broken)


def test_cli_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _write(tmp_path / "x" / "run", [_scored(f"q{i}", 0.2, 10.0) for i in range(3)])
    b = _write(tmp_path / "y" / "run", [_scored(f"q{i}", 0.3, 5.0) for i in range(3)])
    assert main(["eval", "compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert f"A = {a}, B = {b}" in out
    assert "| first_token_s | 3 | 10.0000 | 5.0000 | -5.0000 | [-5.0000, -5.0000] | yes |" in out
    assert main(["eval", "compare", str(a), str(tmp_path / "missing")]) == 1
    assert "no such run folder" in capsys.readouterr().err
