import json
from pathlib import Path

import pytest

from eval.questions import Question, load_questions, select
from rag_app.beir import DatasetError
from tests.conftest import SHARED_DATA

ARAGOG = SHARED_DATA / "aragog" / "benchmark.json"


def test_aragog_shape_loads_with_references_and_glm_marked_unanswerable() -> None:
    questions = load_questions(ARAGOG, unanswerable="GLM")
    assert len(questions) == 107
    assert all(q.reference for q in questions)
    assert sum(not q.answerable for q in questions) == 9


def test_jsonl_with_ids_flags_and_reference_aliases(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    lines = [
        {"id": "a", "question": "One?", "ground_truth": "1"},
        {"question": "Two?", "answerable": False},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    a, b = load_questions(path)
    assert a == Question("a", "One?", "1", True)
    assert b.reference is None and b.answerable is False and len(b.id) == 12


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.jsonl", '{"question": "ok?"}\n{"question": ""}\n', r"bad.jsonl:2: 'question'"),
        ("bad.jsonl", '{"question": "ok?"}\nnot json\n', r"bad.jsonl:2: not JSON"),
        ("dup.json", '[{"id": 1, "question": "a"}, {"id": 1, "question": "b"}]', "appears twice"),
        (
            "aragog.json",
            '{"questions": ["a", "b"], "ground_truths": ["x"]}',
            "2 questions but 1 ground_truths",
        ),
        ("flag.json", '[{"question": "a", "answerable": "no"}]', "question 0: 'answerable'"),
    ],
)
def test_bad_files_name_the_file_and_place(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DatasetError, match=message):
        load_questions(path)


def test_sample_draws_answerable_questions_and_keeps_every_unanswerable_one() -> None:
    questions = [Question(str(i), f"q{i}?", answerable=i % 5 != 0) for i in range(20)]
    picked = select(questions, sample=6, seed=3)
    assert sum(q.answerable for q in picked) == 6
    assert sum(not q.answerable for q in picked) == 4
    assert picked == sorted(picked, key=lambda q: int(q.id))  # file order kept
    assert select(questions, sample=6, seed=3) == picked  # reproducible
    assert select(questions, sample=6, seed=4) != picked
    assert len(select(questions, limit=3)) == 3
