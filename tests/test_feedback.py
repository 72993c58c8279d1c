import json
import stat
from pathlib import Path

import pytest

from rag_app.errors import InvalidInput
from rag_app.feedback import (
    CitedChunk,
    ShownAnswer,
    labelled_questions,
    ratings,
    record,
    tally,
)
from rag_app.files import write_jsonl
from rag_app.tuning.data import load_labelled
from rag_app.types import Answer, Passage

SHED = "/docs/shed.md"
GARDEN = "/docs/garden.md"


def shown(id: str, question: str, *sources: str) -> ShownAnswer:
    cited = [
        CitedChunk(n=n, chunk_id=f"c-{n}", source=s, section="S", page=None, text=f"text {n}")
        for n, s in enumerate(sources, start=1)
    ]
    return ShownAnswer(
        id=id, collection="default", question=question, asked=question, answer="A.", cited=cited
    )


def test_an_answer_is_stored_with_what_it_cited() -> None:
    passage = Passage(
        n=1, text="Closed on Mondays.", source=SHED, section="Shed > Hours", page=3, chunk_id="p9"
    )
    answer = Answer(question="When is the shed closed?", text="Mondays [1].", citations=[passage])
    kept = ShownAnswer.of(answer, "And when is it closed?", "default", "a1")
    assert (kept.question, kept.asked) == ("When is the shed closed?", "And when is it closed?")
    assert kept.cited == [
        CitedChunk(
            n=1,
            chunk_id="p9",
            source=SHED,
            section="Shed > Hours",
            page=3,
            text="Closed on Mondays.",
        )
    ]


def test_the_latest_record_of_an_answer_is_its_rating(tmp_path: Path) -> None:
    path = tmp_path / "collections" / "default" / "feedback.jsonl"
    assert ratings(path) == []
    record(path, shown("a1", "When is the shed closed?", SHED), "bob", "down")
    record(path, shown("a2", "When do I water?", GARDEN), None, "up")
    record(path, shown("a1", "When is the shed closed?", SHED), "bob", "down", " wrong day ")
    record(path, shown("a3", "Anything?"), "bob", "up")
    record(path, shown("a3", "Anything?"), "bob", None)  # taken back
    assert len(path.read_text().splitlines()) == 5  # appended, never rewritten
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    down, up = ratings(path)
    assert (down.id, down.rating, down.note, down.user) == ("a1", "down", "wrong day", "bob")
    assert (up.id, up.user) == ("a2", None)
    assert tally([down, up]) == "1 up, 1 down"
    described = down.describe()
    assert "bob  down  When is the shed closed?\n  note: wrong day" in described
    assert f"[1] {SHED} > S" in described


def test_a_damaged_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    record(path, shown("a1", "q?", SHED), "bob", "up")
    with path.open("a") as out:
        out.write(json.dumps({"id": "a2", "rating": "sideways"}) + "\n")
    with pytest.raises(InvalidInput, match=r"feedback.jsonl:2: "):
        ratings(path)


def test_upvoted_questions_become_labels_that_tune_reads(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    record(path, shown("a1", "When is the shed closed?", SHED), "bob", "up")
    record(path, shown("a2", "when is the  shed closed? ", SHED, GARDEN), "alice", "up")
    record(path, shown("a3", "When do I water?", GARDEN), "bob", "down")
    record(path, shown("a4", "Anything?"), "bob", "up")  # cites nothing
    record(path, shown("a5", "Where did the bees go?", "/docs/deleted.md"), "bob", "up")
    labels = labelled_questions(ratings(path), {SHED, GARDEN})
    assert labels.unlabelled == 2
    [entry] = labels.questions
    assert entry["question"] == "When is the shed closed?"
    assert entry["sources"] == [SHED, GARDEN] and entry["chunks"] == ["c-1", "c-2"]
    assert entry["upvotes"] == 2
    out = tmp_path / "labels.jsonl"
    write_jsonl(out, labels.questions)
    [loaded] = load_labelled(out, [SHED, GARDEN, "/docs/other.md"])
    assert loaded.question == "When is the shed closed?"
    assert loaded.relevant == {SHED, GARDEN}
