"""A rule-based judge that answers each RAGAS prompt with valid JSON and fixed verdicts, so
tests exercise the evaluation pipeline, not a judge's opinion."""

from __future__ import annotations

import json
import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field


def _last_input(prompt: str) -> dict[str, Any]:
    """The JSON object after the prompt's final `input:` (RAGAS puts the real case last)."""
    tail = prompt.rsplit("input: ", 1)[-1]
    body = tail.rsplit("Output:", 1)[0].strip()
    data = json.loads(body)
    return data if isinstance(data, dict) else {}


class FakeJudge(BaseChatModel):
    """`verdict` is what it says about every statement, context and citation."""

    verdict: int = 1
    question: str = "What is asked?"
    """What it 'generates' back from an answer for answer relevancy."""
    calls: list[str] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "fake-judge"

    def reply(self, prompt: str) -> str:
        first = prompt.splitlines()[0]
        if first.startswith("Read the passage"):  # rag_app/prompts/judge_support.md
            return "yes" if self.verdict else "no"
        data = _last_input(prompt)
        if "analyze the complexity of each sentence" in first:
            sentences = [s for s in re.split(r"(?<=\.)\s+", data["answer"]) if s.strip()]
            return json.dumps({"statements": sentences})
        if "judge the faithfulness of a series of statements" in first:
            verdicts = [
                {"statement": s, "reason": "fixed", "verdict": self.verdict}
                for s in data["statements"]
            ]
            return json.dumps({"statements": verdicts})
        if first.startswith("Generate a question for the given answer"):
            return json.dumps({"question": self.question, "noncommittal": 0})
        if "verify if the context was useful" in first:
            return json.dumps({"reason": "fixed", "verdict": self.verdict})
        if "classify if the sentence can be attributed" in first:
            return json.dumps(
                {
                    "classifications": [
                        {"statement": data["answer"], "reason": "fixed", "attributed": self.verdict}
                    ]
                }
            )
        raise AssertionError(f"the fake judge does not know this prompt: {first[:120]}")

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        prompt = str(messages[-1].content)
        self.calls.append(prompt)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self.reply(prompt)))])
