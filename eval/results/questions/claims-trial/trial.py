"""Prompt variants for statements ("claims") tried on the first chunks the sampler picks.

    RAG_HOME=... RAG_COLLECTION=beir-scifact python trial.py PROMPT.md N

PROMPT.md is a template with `{heading}`, `{count}`, `{style}` and `{text}`; `{style}` gets the
five SciFact style examples as a list (B.md, P.md, and rag_app/prompts/claims.md), or with a
lead-in sentence for C.md, which shows them after the passage.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate

from rag_app.chain.prompts import fence
from rag_app.chain.rag import Components
from rag_app.config import Settings
from rag_app.tuning.questions import parse_questions, read_examples, sample_chunks, standalone
from rag_app.types import heading_path


def main(prompt: Path, n: int) -> None:
    examples = read_examples(Path("eval/data/scifact-style-examples.txt"))
    shown = "\n".join(f"- {fence(e)}" for e in examples) + "\n"
    if prompt.name == "C.md":
        shown = (
            "Write them in the style of these examples from other documents (their form, never "
            f"their words or topics):\n{shown}"
        )
    parts = Components(Settings())
    template = ChatPromptTemplate.from_messages([("human", prompt.read_text())])
    for chunk in sample_chunks(parts.store.state.children(), 0)[:n]:
        started = time.time()
        messages = template.format_messages(
            heading=fence(heading_path(chunk.title, chunk.section) or chunk.source),
            count=3,
            style=shown,
            text=fence(chunk.text),
        )
        content = parts.llm.invoke(messages).content
        print(f"--- {chunk.title} ({time.time() - started:.0f} s)")
        for line in parse_questions(content if isinstance(content, str) else str(content), 3):
            print("  ", standalone(line))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
