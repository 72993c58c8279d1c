"""A probe, not a feature: does asking the model a second time, for the passages' own words,
win back the replies the checks withheld?

For every withheld or quoted record of a stored run, the answer prompt again over only the
passages of the documents the withheld reply cited, the question followed by `ASK`; then the
support check and the responds check, as the chain would apply them. One JSON line per record.

    python eval/results/quote/retry/retry.py eval/results/quote/aragog \
        > eval/results/quote/retry/aragog.jsonl
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from langchain_core.messages import HumanMessage

from eval.answers import latest_records
from eval.results.quote.replay import passages
from rag_app.chain.citations import clean_citations
from rag_app.chain.prompts import answer_prompt, passages_block
from rag_app.chain.responds import ResponseJudge
from rag_app.chain.support import CitedPassages, SupportChecker, without_markers
from rag_app.config import get_settings
from rag_app.models.embeddings import get_embedder
from rag_app.models.llm import make_chat_model

ASK = (
    " Copy the sentence or two of the passages that answer it, word for word, each followed by"
    " its number in square brackets."
)


def main(run: Path) -> None:
    settings = get_settings()
    encoder = get_embedder(settings.embedding_model)
    llm = make_chat_model(settings)
    judge = ResponseJudge(llm)
    checker = SupportChecker(encoder, settings.min_support)
    for record in latest_records(run / "answers.jsonl").values():
        why = record.get("quoted") or record.get("withheld")
        if not why or not record["sentences"]:
            continue
        read = passages(record["contexts"])
        cited = {n for check in record["sentences"] for n in check["citations"]}
        sources = {p.source for p in read if p.n in cited}
        kept = [p for p in read if p.source in sources]
        messages = answer_prompt().format_messages(
            abstain_text=settings.abstain_text,
            passages=passages_block((p.n, p.heading, p.text) for p in kept),
            question=record["question"],
        )
        messages[-1] = HumanMessage(str(messages[-1].content) + ASK)
        started = time.perf_counter()
        reply = str(llm.invoke(messages).content).strip()
        seconds = time.perf_counter() - started
        checked = clean_citations(reply, kept)
        checks = checker.check(checked.text, CitedPassages(kept, encoder), record["question"])
        verdicts = [check.verdict for check in checks]
        p_yes = (
            judge.score(record["question"], without_markers(checked.text))
            if "supported" in verdicts
            else None
        )
        row = {
            "answerable": record["answerable"],
            "question": record["question"],
            "withheld": why,
            "shown": record["answer"],
            "retry": checked.text,
            "verdicts": verdicts,
            "p_yes": p_yes,
            "seconds": round(seconds, 1),
        }
        print(json.dumps(row, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
