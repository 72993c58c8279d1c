"""Prompt templates live as files in `rag_app/prompts/`, loaded by name as LangChain templates.

They ship inside the package (package data), so an installed wheel answers exactly as a source
checkout does. A prompt file is a template with `{field}` placeholders; the answer prompt's
worked examples are data (`examples.json`), shown to the model as earlier turns of the
conversation by LangChain's few-shot chat template, their passages rendered exactly as real
ones are.

Passages are documents anyone may have written, so they reach the model fenced: inside
`<documents>` / `<passage>` elements whose tags a passage cannot close or open (`fence`), with
chat-template control tokens removed (llama.cpp parses special tokens in the prompt, so
`<|im_start|>system` in a document would otherwise begin a real system turn), and with the
instruction repeated after the data, where a small model weighs it most.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
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
# Turn markers of the chat templates llama.cpp runs: ChatML (Qwen), Llama 2 and 3, Mistral,
# Gemma, Phi; and the sentence markers `<s>`, `</s>`.
_CONTROL_TOKENS = re.compile(
    r"<\|[A-Za-z0-9_]{1,40}\|>|\[/?INST\]|<</?SYS>>|<(?:start|end)_of_turn>|</?s>", re.IGNORECASE
)
_FENCE_TAGS = re.compile(r"<(\s*/?\s*)(documents|passage|question|reply)\b", re.IGNORECASE)


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


def fence(text: str) -> str:
    """Document text that can neither start a chat turn nor open or close the passage block
    (or the responds check's question and reply): control tokens become a space, and
    `<passage`, `</documents`, `</reply` and the like lose their `<` to a look-alike `‹`, so
    the model still reads the words."""
    return _FENCE_TAGS.sub(r"‹\1\2", _CONTROL_TOKENS.sub(" ", text))


def passages_block(passages: Iterable[tuple[int, str, str]]) -> str:
    """(number, heading, text) per passage, each fenced, as the answer prompt's `passages`."""
    template = prompt_template("passage")
    return "\n\n".join(
        template.format(n=n, heading=fence(heading), text=fence(text))
        for n, heading, text in passages
    )


def _example(entry: object) -> dict[str, str] | None:
    if not isinstance(entry, dict) or set(entry) != EXAMPLE_FIELDS:
        return None
    passages = entry["passages"]
    if not isinstance(passages, list) or not all(
        isinstance(p, dict) and set(p) == {"heading", "text"} for p in passages
    ):
        return None
    block = passages_block((n, p["heading"], p["text"]) for n, p in enumerate(passages, 1))
    return {"passages": block, "question": str(entry["question"]), "answer": str(entry["answer"])}


@lru_cache(maxsize=1)
def worked_examples() -> list[dict[str, str]]:
    """The examples with their passages rendered like a real question's."""
    try:
        entries = json.loads(_read("examples.json"))
    except json.JSONDecodeError as err:
        raise InvalidInput(f"{PROMPTS_DIR / 'examples.json'}: not JSON ({err.msg})") from None
    if not isinstance(entries, list):
        entries = [entries]
    examples = [_example(e) for e in entries]
    bad = [i for i, e in enumerate(examples) if e is None]
    if not examples or bad:
        raise InvalidInput(
            f"{PROMPTS_DIR / 'examples.json'}: a non-empty list of objects with exactly "
            f"{', '.join(sorted(EXAMPLE_FIELDS))}, passages a list of objects with heading and "
            f"text (entries {bad} differ)"
        )
    return [e for e in examples if e is not None]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


@lru_cache(maxsize=1)
def _instruction_runs(run: int) -> frozenset[tuple[str, ...]]:
    """Every run of `run` consecutive words of the answer rules (system and turn prompts,
    outside their fields)."""
    rules = [re.sub(r"\{[a-z_]+\}", " ", _read(name)) for name in ("system.md", "answer.md")]
    runs: set[tuple[str, ...]] = set()
    for words in map(_words, rules):
        runs.update(tuple(words[i : i + run]) for i in range(len(words) - run + 1))
    return frozenset(runs)


def repeats_instructions(text: str, run: int = 8) -> bool:
    """Whether `text` repeats the answer rules: `run` consecutive words of them, a span no
    answer from the documents shares by chance. The rules themselves say never to, but a
    document can ask for them, and a small model may comply."""
    words = _words(text)
    runs = _instruction_runs(run)
    return any(tuple(words[i : i + run]) in runs for i in range(len(words) - run + 1))


@lru_cache(maxsize=1)
def answer_prompt() -> ChatPromptTemplate:
    """System rules, the worked examples as earlier turns (small models cite far more reliably
    after seeing one than after any instruction), then the real passages and question. A
    second example, an injected notice being ignored, was tried and removed: the 1.5B model
    then answered one attack with the example's own injected sentence. Its
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
