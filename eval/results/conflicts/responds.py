"""Can word overlap with the question tell an answer that responds from one that does not?
Every stored ARAGOG answer, latest per question and run: answerable questions answered, and
GLM-130B questions (the papers do not cover them) answered anyway. Counts the content words
each answer shares with its question, the question's names left out. Needs no model.

    python eval/results/conflicts/responds.py > eval/results/conflicts/responds.txt
"""

from __future__ import annotations

from pathlib import Path

from eval.answers import latest_records
from rag_app.chain.support import without_markers
from rag_app.retrieval.coverage import key_terms
from rag_app.text import content_words

NOTE = " Another document says otherwise"


def overlaps() -> tuple[list[int], dict[str, tuple[int, str]]]:
    answerable: list[int] = []
    glm: dict[str, tuple[int, str]] = {}
    runs = [p for p in sorted(Path("eval/results").rglob("answers.jsonl")) if "aragog" in str(p)]
    for path in runs:
        latest = latest_records(path)
        for record in latest.values():
            if record["abstained"]:
                continue
            question, answer = record["question"], record["answer"].split(NOTE)[0]
            names = {w for term in key_terms(question) for w in content_words(term)}
            shared = (content_words(question) - names) & content_words(without_markers(answer))
            if "GLM" in question:
                glm[f"{question[:70]} | {answer[:90]}"] = (len(shared), str(path.parent))
            else:
                answerable.append(len(shared))
    print(
        f"{len(runs)} runs: {len(answerable)} answerable answers, {len(glm)} distinct GLM answers"
    )
    return answerable, glm


def main() -> None:
    answerable, glm = overlaps()
    for k in range(1, 4):
        kept = sum(n >= k for n, _ in glm.values())
        print(
            f"sharing >= {k} words: answerable kept {sum(n >= k for n in answerable)}"
            f"/{len(answerable)}, GLM kept {kept}/{len(glm)}"
        )
    for text, (n, run) in sorted(glm.items()):
        print(f"  {n} | {text} | {run}")


if __name__ == "__main__":
    main()
