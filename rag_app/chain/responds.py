"""Whether a reply responds to the question at all, asked of the answering LLM itself.

The support check (`support.py`) reads each sentence against the passage it cites, so a true
sentence about the wrong thing passes it: to "How does GLM-130B address ethical concerns?" the
1.5B model replied "GLM-130B is prompt-based, requiring in-context examples [3]", which its
passage does say. No word-level signal tells that apart from an answer: on every stored ARAGOG
run, answers to questions the papers do not cover share as many of the question's words as
real answers do (eval/results/conflicts/responds.txt). Whether a reply gives what was asked is a
reading task, so the model reads it: one short prompt with the question and the reply, fenced
like passages (the reply may carry a document's text).

The verdict is a probability, not a word: the 1.5B model's greedy yes/no refused 11 of 37
real answers (eval/results/responds/README.md), while its probability of "yes" ranks answers
above replies to another question about the same paper (ROC AUC 0.82), so a calibrated
threshold (`min_responds`) keeps nearly all answers. An endpoint, which gives no
probabilities, is asked for the word, read as 1 or 0.
"""

from __future__ import annotations

import re

from langchain_core.language_models import BaseChatModel

from rag_app.chain.prompts import chat_prompt, fence
from rag_app.protocols import ChoiceModel


def parse_verdict(reply: str) -> bool | None:
    """The reply's first word as yes/no; None when it is neither (counted as not judged,
    never guessed)."""
    words = re.findall(r"[a-z]+", reply.lower())
    first = words[0] if words else ""
    return True if first == "yes" else False if first == "no" else None


class ResponseJudge:
    """Asks the LLM how likely it is that a reply gives what its question asks for."""

    def __init__(self, llm: BaseChatModel) -> None:
        self.llm = llm

    def score(self, question: str, reply: str) -> float | None:
        """The probability of "yes" (1 or 0 from a model that only writes its verdict); None
        when such a model wrote neither word (the caller decides what that means)."""
        prompt = chat_prompt("judge_responds").format_messages(
            question=fence(question), reply=fence(reply)
        )
        if isinstance(self.llm, ChoiceModel):
            return self.llm.choice_probabilities(prompt, ["yes", "no"])[0]
        content = self.llm.invoke(prompt).content
        verdict = parse_verdict(content if isinstance(content, str) else str(content))
        return None if verdict is None else float(verdict)
