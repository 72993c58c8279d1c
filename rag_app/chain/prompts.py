"""Prompt templates live as files in `prompts/`, loaded by name."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from rag_app.errors import InvalidInput

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"


@lru_cache(maxsize=32)
def load_prompt(name: str, folder: Path = PROMPTS_DIR) -> str:
    path = folder / f"{name}.md"
    if not path.is_file():
        raise FileNotFoundError(f"prompt {name!r} not found at {path}")
    return path.read_text(encoding="utf-8").strip()


def example_exchange() -> dict[str, str]:
    """The worked example in `prompts/example.md`: its `## passages`, `## question` and
    `## answer` sections."""
    sections: dict[str, str] = {}
    for block in ("\n" + load_prompt("example")).split("\n## ")[1:]:
        name, _, body = block.partition("\n")
        sections[name.strip()] = body.strip()
    missing = {"passages", "question", "answer"} - sections.keys()
    if missing:
        raise InvalidInput(f"prompts/example.md lacks section(s): {', '.join(sorted(missing))}")
    return sections
