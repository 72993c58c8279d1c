"""Prompt templates live as files in `rag_app/prompts/`, loaded by name as LangChain templates.

They ship inside the package (package data), so an installed wheel answers exactly as a source
checkout does. A prompt file is a template with `{field}` placeholders; the answer prompt's
worked examples are data (`examples.json`), shown to the model as earlier turns of the
conversation by LangChain's few-shot chat template.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from langchain_core.prompts import (
    ChatPromptTemplate,
    FewShotChatMessagePromptTemplate,
    PromptTemplate,
)

from rag_app.errors import InvalidInput

PROMPTS_DIR: Traversable = files("rag_app") / "prompts"
EXAMPLE_FIELDS = frozenset({"passages", "question", "answer"})


def _read(name: str) -> str:
    path = PROMPTS_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"prompt {name!r} not found at {path}")
    return path.read_text(encoding="utf-8").strip()


@lru_cache(maxsize=32)
def prompt_template(name: str) -> PromptTemplate:
    """`rag_app/prompts/NAME.md` as a text template (one passage, one judge question)."""
    return PromptTemplate.from_template(_read(f"{name}.md"))


@lru_cache(maxsize=32)
def chat_prompt(name: str) -> ChatPromptTemplate:
    """`rag_app/prompts/NAME.md` as a one-message chat prompt (condense, HyDE, multi-query)."""
    return ChatPromptTemplate.from_messages([("human", _read(f"{name}.md"))])


@lru_cache(maxsize=1)
def worked_examples() -> list[dict[str, str]]:
    try:
        examples = json.loads(_read("examples.json"))
    except json.JSONDecodeError as err:
        raise InvalidInput(f"{PROMPTS_DIR / 'examples.json'}: not JSON ({err.msg})") from None
    if not isinstance(examples, list):
        examples = [examples]
    bad = [i for i, e in enumerate(examples) if not isinstance(e, dict) or set(e) != EXAMPLE_FIELDS]
    if not examples or bad:
        raise InvalidInput(
            f"{PROMPTS_DIR / 'examples.json'}: a non-empty list of objects with exactly "
            f"{', '.join(sorted(EXAMPLE_FIELDS))} (entries {bad} differ)"
        )
    return examples


@lru_cache(maxsize=1)
def answer_prompt() -> ChatPromptTemplate:
    """System rules, the worked examples as earlier turns (small models cite far more reliably
    after seeing one than after any instruction), then the real passages and question. Its
    fields: `abstain_text`, `passages`, `question`. Everything before the last message is the
    same for every question, which is what lets llama.cpp reuse its computed state."""
    turn = _read("answer.md")
    example = ChatPromptTemplate.from_messages([("human", turn), ("ai", "{answer}")])
    return ChatPromptTemplate.from_messages(
        [
            ("system", _read("system.md")),
            FewShotChatMessagePromptTemplate(examples=worked_examples(), example_prompt=example),
            ("human", turn),
        ]
    )
