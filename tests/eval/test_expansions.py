import json
from pathlib import Path
from typing import Any

import pytest

from eval.expansions import expand_queries
from rag_app.config import Settings
from tests.fakes import RecordingLLM


def _llm(monkeypatch: pytest.MonkeyPatch, responses: list[str]) -> RecordingLLM:
    llm = RecordingLLM(responses=responses)
    monkeypatch.setattr("rag_app.models.llm.make_chat_model", lambda settings: llm)
    return llm


def _refuse_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(settings: Any) -> None:
        raise AssertionError("the LLM was loaded although every expansion was kept")

    monkeypatch.setattr("rag_app.models.llm.make_chat_model", refuse)


def test_expansions_are_kept_and_a_rerun_reuses_them(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "expansions-hyde.jsonl"
    queries = {"q1": "when is the shed closed", "q2": "how often are tomatoes watered"}
    llm = _llm(monkeypatch, ["The shed is closed on Mondays.", "Twice a week."])

    first = expand_queries(queries, "hyde", settings, path)

    assert first["q1"].expansions == ["The shed is closed on Mondays."]
    assert "when is the shed closed" in str(llm.prompts[0][0].content)
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["q1", "q2"]
    _refuse_llm(monkeypatch)
    again = expand_queries(queries, "hyde", settings, path)
    assert again == first


def test_an_expansion_written_for_other_text_or_kind_is_written_anew(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "expansions.jsonl"
    _llm(monkeypatch, ["Closed on Mondays."])
    expand_queries({"q1": "when is the shed closed"}, "hyde", settings, path)

    llm = _llm(monkeypatch, ["shed opening days\nshed closing day", "It opens at eight."])
    multi = expand_queries({"q1": "when is the shed closed"}, "multi", settings, path)
    changed = expand_queries({"q1": "when does the shed open"}, "hyde", settings, path)

    assert multi["q1"].expansions == ["shed opening days", "shed closing day"]
    assert changed["q1"].expansions == ["It opens at eight."]
    assert len(llm.prompts) == 2


def test_a_line_torn_by_a_killed_run_is_written_again(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "expansions-hyde.jsonl"
    queries = {"q1": "when is the shed closed", "q2": "how often are tomatoes watered"}
    _llm(monkeypatch, ["Closed on Mondays.", "Twice a week."])
    expand_queries(queries, "hyde", settings, path)
    lines = path.read_text().splitlines()
    path.write_text(lines[0] + "\n" + lines[1][: len(lines[1]) // 2])

    llm = _llm(monkeypatch, ["Twice a week, deeply."])
    kept = expand_queries(queries, "hyde", settings, path)

    assert kept["q2"].expansions == ["Twice a week, deeply."] and len(llm.prompts) == 1
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["q1", "q2"]
