import json
import math
from pathlib import Path

import pytest

from eval.support import (
    Agreement,
    LabelledStatement,
    calibrate,
    evaluate_support,
    load_labels,
    support_scores,
)
from rag_app.errors import InvalidInput
from tests.fakes import HashingEmbedder

DESK = "The help desk is open from 8:30 am to 5:30 pm. On Mondays it opens at 9 am."
CAFE = "Breakfast is served in the staff cafeteria from 7 to 10 am."


def _statement(i: int, sentence: str, passage: str, supported: bool) -> dict[str, object]:
    return {
        "id": f"s{i}",
        "question": "When?",
        "sentence": sentence,
        "passages": [{"n": 1, "heading": "Office", "text": passage}],
        "supported": supported,
    }


def test_agreement_counts_verdicts_against_labels() -> None:
    scores, labels = [0.9, 0.8, 0.6, 0.4, 0.1], [True, False, True, True, False]
    at = Agreement.at(0.5, scores, labels)
    assert (at.precision, at.recall, at.accuracy) == (2 / 3, 2 / 3, 0.6)
    assert at.unsupported_caught == 0.5
    nothing_called = Agreement.at(0.95, scores, labels)
    assert math.isnan(nothing_called.precision) and nothing_called.recall == 0.0


def test_calibration_takes_the_lowest_threshold_reaching_the_target() -> None:
    scores, labels = [0.9, 0.8, 0.6, 0.4, 0.1], [True, False, True, True, False]
    assert calibrate(scores, labels, target=0.75) == 0.4  # 3 of 4 at 0.4
    assert calibrate(scores, labels, target=0.9) == 0.9  # only the top one is right for sure
    # never reached: the best precision, lowest threshold on a tie
    assert calibrate([0.7, 0.5], [False, False], target=0.9) == 0.5


def test_bad_label_lines_name_the_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    good = json.dumps(_statement(1, "Open at 9 am.", DESK, True))
    path.write_text(good + "\n" + json.dumps({**json.loads(good), "supported": "maybe"}) + "\n")
    with pytest.raises(InvalidInput, match=r"labels.jsonl:2: supported"):
        load_labels(path)
    path.write_text(good + "\n" + good + "\n")
    with pytest.raises(InvalidInput, match=r"labels.jsonl:2: statement id 's1' is used twice"):
        load_labels(path)
    path.write_text(json.dumps({**json.loads(good), "passages": []}) + "\n")
    with pytest.raises(InvalidInput, match=r"labels.jsonl:1: passages"):
        load_labels(path)


def test_the_report_calibrates_on_dev_and_scores_test(tmp_path: Path) -> None:
    rows = []
    for i in range(24):
        if i % 2:
            rows.append(_statement(i, "On Mondays the help desk opens at 9 am.", DESK, True))
        else:  # a figure the passage lacks, or the wrong passage cited
            rows.append(_statement(i, "Breakfast is served from 7 to 10 am.", DESK, False))
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = evaluate_support(
        labels, HashingEmbedder(dimension=512), tmp_path / "out", target=0.9, configured=0.5
    )
    dev = {s["dev"] for s in result["scores"]}
    assert dev == {True, False}  # both halves hold statements
    test_row = next(v for k, v in result["agreement"].items() if k.startswith("test, calibrated"))
    assert test_row["precision"] == 1.0 and test_row["unsupported_caught"] == 1.0
    assert "calibrated on the dev half" in (tmp_path / "out" / "results.md").read_text()
    # a statement keeps its half as labels are added (the split hashes its id)
    again = [s for s in load_labels(labels)]
    assert [s.dev for s in again] == [s["dev"] for s in result["scores"]]


def test_a_statement_that_only_restates_its_question_is_never_called_supported() -> None:
    statement = _statement(1, "The help desk is open on Mondays.", DESK, False)
    encoder = HashingEmbedder(dimension=512)
    asked = LabelledStatement.model_validate(
        {**statement, "question": "When is the help desk open on Mondays?"}
    )
    other = LabelledStatement.model_validate({**statement, "question": "Where is the desk?"})
    restated, backed = support_scores(encoder, [asked, other])
    assert restated == 0.0 and backed > 0.5  # the same sentence, backed by its passage
