import pytest

from rag_app.chain.prompts import PROMPTS_DIR, example_exchange, load_prompt


@pytest.mark.parametrize("name", ["system", "answer", "condense", "passage", "example"])
def test_every_prompt_file_loads(name: str) -> None:
    assert load_prompt(name)


def test_templates_have_their_fields() -> None:
    assert "{passages}" in load_prompt("answer") and "{question}" in load_prompt("answer")
    assert "{history}" in load_prompt("condense")
    assert "{abstain_text}" in load_prompt("system")
    example = example_exchange()
    assert "[1]" in example["answer"] and "[1]" in example["passages"]


def test_missing_prompt_names_the_path() -> None:
    with pytest.raises(FileNotFoundError, match=str(PROMPTS_DIR)):
        load_prompt("no-such-prompt")
