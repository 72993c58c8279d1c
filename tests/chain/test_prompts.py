import json
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from rag_app.chain import prompts
from rag_app.chain.prompts import (
    PROMPTS_DIR,
    answer_prompt,
    chat_prompt,
    prompt_template,
    worked_examples,
)
from rag_app.errors import InvalidInput


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("condense", {"history", "question"}),
        ("hyde", {"question"}),
        ("multi_query", {"count", "question"}),
        ("judge_support", {"passage", "statement"}),
    ],
)
def test_each_chat_prompt_takes_exactly_its_fields(name: str, fields: set[str]) -> None:
    template = chat_prompt(name)
    assert set(template.input_variables) == fields
    (message,) = template.format_messages(**dict.fromkeys(fields, "{x}"))
    assert isinstance(message, HumanMessage) and "{x}" in str(message.content)


def test_passage_template() -> None:
    text = prompt_template("passage").format(n=2, heading="Guide > Setup", text="Run it.")
    assert text == "[2] Guide > Setup\nRun it."


def test_answer_prompt_puts_the_examples_before_the_question_and_keeps_the_prefix_fixed() -> None:
    template = answer_prompt()
    assert set(template.input_variables) == {"abstain_text", "passages", "question"}

    def render(passages: str, question: str) -> list[object]:
        return template.format_messages(
            abstain_text="Not in the documents.", passages=passages, question=question
        )

    first = render("[1] A\nalpha {braces} stay", "What is {alpha}?")
    second = render("[1] B\nbeta", "And beta?")
    example = worked_examples()[0]
    assert [type(m) for m in first] == [SystemMessage, HumanMessage, AIMessage, HumanMessage]
    assert "Not in the documents." in str(first[0].content)  # type: ignore[attr-defined]
    assert example["question"] in str(first[1].content)  # type: ignore[attr-defined]
    assert first[2].content == example["answer"]  # type: ignore[attr-defined]
    assert "alpha {braces} stay" in str(first[3].content)  # values are not templates
    assert "What is {alpha}?" in str(first[3].content)  # type: ignore[attr-defined]
    assert first[:3] == second[:3]  # the part llama.cpp computes once


def test_the_prompts_ship_inside_the_package() -> None:
    assert Path(str(PROMPTS_DIR)).parent == Path(prompts.__file__).parents[1]
    assert {"system.md", "answer.md", "examples.json"} <= {p.name for p in PROMPTS_DIR.iterdir()}


def test_missing_prompt_names_the_path() -> None:
    with pytest.raises(FileNotFoundError, match=r"no-such-prompt\.md"):
        chat_prompt("no-such-prompt")


def test_bad_worked_examples_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prompts, "PROMPTS_DIR", tmp_path)
    worked_examples.cache_clear()
    try:
        (tmp_path / "examples.json").write_text(json.dumps([{"question": "q", "answer": "a"}]))
        with pytest.raises(InvalidInput, match=r"examples\.json: .*entries \[0\]"):
            worked_examples()
        (tmp_path / "examples.json").write_text("[{")
        with pytest.raises(InvalidInput, match="not JSON"):
            worked_examples()
    finally:
        worked_examples.cache_clear()
