"""Writes `aragog-papers.jsonl`: each answerable ARAGOG question with the paper it asks about.

ARAGOG gives reference answers but not the paper, which `rag eval retrieval --questions`
needs. Every question names its subject (a model, a benchmark, "the multitask test" for
MMLU), so a rule finds the paper; the nine GLM-130B questions have none here and are left
out. The first matching rule wins, so the longer names go before "BERT". Checked by hand:
98 questions, every paper 4-10 of them.

    python eval/data/aragog_papers.py ../shared/data/aragog/benchmark.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

RULES: tuple[tuple[str, str | None], ...] = (
    ("GLM", None),
    ("DistilBERT", "distilbert.pdf"),
    ("RoBERTa", "roberta.pdf"),
    ("Megatron", "megatron.pdf"),
    ("DetectGPT", "DetectGPT.pdf"),
    ("LLaMA", "llama.pdf"),
    ("HellaSwag", "hellaswag.pdf"),
    ("Task2Vec", "task2vec.pdf"),
    ("SuperGLUE", "superglue.pdf"),
    ("CodeNet", "codenet.pdf"),
    ("PAL", "PAL.pdf"),
    ("multitask|57 tasks|future language model benchmarks", "MMLU_measure.pdf"),
    ("BERT", "bert.pdf"),
)


def paper_of(question: str) -> str | None:
    for pattern, paper in RULES:
        if re.search(pattern, question):
            return paper
    raise ValueError(f"no rule names the paper of {question!r}")


def main(benchmark: Path) -> None:
    questions = json.loads(benchmark.read_text())["questions"]
    out = Path(__file__).with_name("aragog-papers.jsonl")
    lines = [
        json.dumps({"question": q.strip(), "sources": [paper]})
        for q in questions
        if (paper := paper_of(q)) is not None
    ]
    out.write_text("\n".join(lines) + "\n")
    print(f"{len(lines)} of {len(questions)} questions -> {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
