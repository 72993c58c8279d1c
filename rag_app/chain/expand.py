"""Extra queries the LLM writes before retrieval, one function for the chat and the
retrieval evaluation, so what `rag eval retrieval` measures as "+hyde" is what a user who
turns `query_expansion` on gets.

HyDE (Gao et al., 2022) asks for a hypothetical answer passage: written in a document's words,
it embeds closer to the real passage than a question or a claim does, and it needs no label.
Multi-query asks for paraphrases. Either way the rankings of the question and of every
expansion are fused with RRF (`retrieval/pipeline.py`).
"""

from __future__ import annotations

import re
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig

from rag_app.chain.prompts import chat_prompt

Expansion = Literal["hyde", "multi"]
# A list mark the model may put before each paraphrase ("1.", "2)", "-", "*"), and only that:
# stripping digits from both ends took "0-" from "0-dimensional biomaterials" and the year
# from "… in 2000" (seen on SciFact).
_LIST_MARK = re.compile(r"^\s*(?:[-*+•]|\d{1,2}[.)])\s+")


def write_expansions(
    llm: BaseChatModel,
    question: str,
    kind: Expansion,
    count: int = 3,
    config: RunnableConfig | None = None,
) -> list[str]:
    """The expansions of `question`: one passage for HyDE, up to `count` paraphrases for
    multi-query (one per line, list marks removed); none when the model wrote nothing."""
    if kind == "hyde":
        prompt = chat_prompt("hyde").format_messages(question=question)
    else:
        prompt = chat_prompt("multi_query").format_messages(question=question, count=count)
    content = llm.invoke(prompt, config).content
    reply = (content if isinstance(content, str) else str(content)).strip()
    if kind == "hyde":
        return [reply] if reply else []
    lines = (_LIST_MARK.sub("", line).strip() for line in reply.splitlines())
    return [q for q in lines if q][:count]
