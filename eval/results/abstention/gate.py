"""The confidence gate alone (no LLM) on question sets: how many pass, by which signal, and why
each refused one was refused. Usage: RAG_HOME=... python gate.py COLLECTION NAME=FILE ...
(a .json ARAGOG benchmark is split into NAME-ans and NAME-glm; .txt is one question per line,
# comments skipped; .jsonl has a "question" field). COLLECTION "" is the configured one."""

import json
import sys
from pathlib import Path

from rag_app.chain.rag import Components
from rag_app.config import get_settings


def question_sets(name: str, path: Path) -> dict[str, list[str]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        questions = json.loads(text)["questions"]
        return {
            f"{name}-ans": [q for q in questions if "GLM" not in q],
            f"{name}-glm": [q for q in questions if "GLM" in q],
        }
    if path.suffix == ".txt":
        lines = [line.strip() for line in text.splitlines()]
        return {name: [line for line in lines if line and not line.startswith("#")]}
    return {name: [json.loads(line)["question"] for line in text.splitlines() if line]}


def main(collection: str, files: list[str]) -> None:
    settings = get_settings()
    parts = Components(settings.updated(collection=collection) if collection else settings)
    for spec in files:
        name, path = spec.split("=", 1)
        for set_name, questions in question_sets(name, Path(path)).items():
            found = [parts.pipeline.run(q) for q in questions]
            passed = [r for r in found if r.gate.confident]
            signals = {s: sum(r.gate.signal == s for r in passed) for s in ("dense", "words")}
            refused_for_terms = sum(bool(r.gate.missing) for r in found)
            print(
                f"{set_name}: passed {len(passed)}/{len(found)}, by signal {signals}; "
                f"refused for a missing key term {refused_for_terms}"
            )
            for question, r in zip(questions, found, strict=True):
                if set_name.endswith(("vague", "glm")) or not r.gate.confident:
                    verdict = "PASS" if r.gate.confident else "refuse"
                    print(
                        f"   {verdict} {r.gate.signal} {r.gate.best:.3f} "
                        f"words={r.gate.coverage:.2f} missing={r.gate.missing} | {question[:90]}"
                    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
