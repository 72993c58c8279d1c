"""`rag eval answers`: the real chain on a question set, scored by RAGAS and by our own checks.

RAGAS (legacy metrics through its LangChain wrappers, so the judge is our configured local model
or any OpenAI-compatible endpoint): faithfulness, answer relevancy, context precision (with the
reference when there is one), context recall, and the judge-free string and semantic similarity
to the reference. Beside them: citation validity (every `[n]` the model wrote maps to a passage
it was given), citation support (the judge says the cited passages back the sentence),
abstention and latency. Questions the documents cannot answer are scored on abstention only.

Every question's record is appended to `answers.jsonl` as soon as it is answered and again when
scored, so a killed run resumes where it stopped; `run.json` holds the configuration, and a
resume under a different one is refused rather than mixing results.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Unpack

from eval.questions import Question
from eval.report import bar_chart, markdown_table, percentile_ms, provenance, write_json
from rag_app.chain.rag import Overrides, build_chain
from rag_app.chain.responds import parse_verdict
from rag_app.chain.support import cited_numbers, split_sentences, without_markers
from rag_app.config import Settings
from rag_app.errors import InvalidInput, UserError
from rag_app.feedback import ratings, tally
from rag_app.types import Answer

RAGAS_METRICS = (
    "faithfulness",
    "answer_relevancy",
    "context_precision",
    "context_recall",
    "string_similarity",
    "semantic_similarity",
)
CHECKS = ("citation_validity", "citation_support", "cited_any")
ANSWER_KEYS = (
    "answer",
    "abstained",
    "contexts",
    "citations",
    "invalid_citations",
    "timings",
    "usage",
    "withheld",
    "quoted",
    "draws",
    "not_covered",
    "sentences",
)


def judge_settings(settings: Settings) -> Settings | None:
    """The judge as a chat-model configuration (deterministic, with room for JSON replies), or
    None when `judge_backend` is none."""
    if settings.judge_backend == "none":
        return None
    return settings.updated(
        llm_backend=settings.judge_backend,
        llm_model=settings.judge_model or settings.llm_model,
        llm_base_url=settings.judge_base_url or settings.llm_base_url,
        llm_api_key=settings.judge_api_key or settings.llm_api_key,
        llm_max_tokens=settings.judge_max_tokens,
        llm_temperature=0.0,
    )


def cited_sentences(text: str) -> list[tuple[str, list[int]]]:
    """(sentence without markers, cited numbers) for each sentence that cites something,
    split as the chain's support check splits them."""
    return [
        (without_markers(sentence), numbers)
        for sentence in split_sentences(text)
        if (numbers := cited_numbers(sentence))
    ]


def citation_validity(valid_markers: int, invalid: int) -> float:
    """Share of the citation numbers the model wrote that map to a passage; NaN if it wrote
    none (not citing is measured by `cited_any`, not here)."""
    total = valid_markers + invalid
    return valid_markers / total if total else math.nan


@dataclass
class Record:
    """One question's line in answers.jsonl."""

    question: Question
    answer: dict[str, Any]
    scores: dict[str, float] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.question.id,
            "question": self.question.question,
            "reference": self.question.reference,
            "answerable": self.question.answerable,
            **self.answer,
            "scores": self.scores,
        }


def read_lines(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """An answers.jsonl's records, and whether its last line is torn (a run killed while
    appending it); a bad line anywhere else is an error naming it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    parsed: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError as err:
            if number < len(lines):
                raise InvalidInput(f"{path}:{number}: not JSON ({err.msg})") from None
            return parsed, True
    return parsed, False


def appended_lines(path: Path) -> list[dict[str, Any]]:
    """The records a resumable run appended to `path` so far. A run killed mid-append leaves a
    torn last line: it is dropped (that record is redone), so the next append starts on a line
    of its own."""
    if not path.is_file():
        return []
    parsed, torn = read_lines(path)
    if torn:
        kept = path.read_text(encoding="utf-8").splitlines()[:-1]
        path.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
    return parsed


def latest_records(path: Path) -> dict[str, dict[str, Any]]:
    """Each question's last line: a question is appended once answered and again when scored."""
    return {data["id"]: data for data in read_lines(path)[0]}


def answer_record(answer: Answer) -> dict[str, Any]:
    return {
        "answer": answer.text,
        "abstained": answer.abstained,
        "contexts": [
            {"n": p.n, "heading": p.heading, "source": p.source, "page": p.page, "text": p.text}
            for p in answer.contexts
        ],
        "citations": [p.n for p in answer.citations],
        "invalid_citations": answer.invalid_citations,
        "timings": answer.timings,
        "usage": answer.usage.to_json() if answer.usage else None,
        # why an answer was refused, and each sentence's support verdict: without them a lost
        # answerable question cannot be told apart (the LLM abstained, or the check withheld)
        "withheld": answer.withheld or None,
        "quoted": answer.quoted or None,
        "draws": answer.draws,
        "not_covered": answer.not_covered,
        "sentences": [check.model_dump() for check in answer.sentences],
    }


class Scorer:
    """RAGAS metrics plus our citation checks for one answered question. Without a judge
    (`judge=None`) only the judge-free ones are scored; the others stay unmeasured (NaN). With
    `ragas_judge=False` the judge checks citation support only: RAGAS's judged metrics cost
    minutes per answer on 2 cores, the support verdicts seconds."""

    def __init__(
        self,
        judge: Any | None,
        embeddings: Any,
        timeout_s: int,
        relevancy_questions: int = 3,
        ragas_judge: bool = True,
    ) -> None:
        self.judge = judge
        self.ragas_judge = ragas_judge
        self.embeddings = embeddings
        self.timeout_s = timeout_s
        self.relevancy_questions = relevancy_questions

    def _metrics(self, with_reference: bool) -> dict[str, Any]:
        from ragas.metrics import (
            AnswerRelevancy,
            Faithfulness,
            LLMContextPrecisionWithoutReference,
            LLMContextPrecisionWithReference,
            LLMContextRecall,
            NonLLMStringSimilarity,
            SemanticSimilarity,
        )

        metrics: dict[str, Any] = {}
        if self.judge is not None and self.ragas_judge:
            metrics["faithfulness"] = Faithfulness()
            metrics["answer_relevancy"] = AnswerRelevancy(strictness=self.relevancy_questions)
            metrics["context_precision"] = (
                LLMContextPrecisionWithReference()
                if with_reference
                else LLMContextPrecisionWithoutReference()
            )
            if with_reference:
                metrics["context_recall"] = LLMContextRecall()
        if with_reference:
            metrics["string_similarity"] = NonLLMStringSimilarity()
            metrics["semantic_similarity"] = SemanticSimilarity()
        return metrics

    def ragas(self, record: Record) -> dict[str, float]:
        from ragas import EvaluationDataset, RunConfig, SingleTurnSample, evaluate
        from ragas.dataset_schema import EvaluationResult
        from ragas.embeddings import LangchainEmbeddingsWrapper
        from ragas.llms import LangchainLLMWrapper

        q = record.question
        sample = SingleTurnSample(
            user_input=q.question,
            # the judge reads claims, not our markers
            response=without_markers(record.answer["answer"]),
            retrieved_contexts=[c["text"] for c in record.answer["contexts"]],
            reference=q.reference,
        )
        metrics = self._metrics(q.reference is not None)
        if not metrics:
            return {}
        # One worker: a local llama.cpp model is not safe to call from several threads.
        result = evaluate(
            EvaluationDataset([sample]),
            metrics=list(metrics.values()),
            llm=LangchainLLMWrapper(self.judge) if self.judge is not None else None,
            embeddings=LangchainEmbeddingsWrapper(self.embeddings),
            run_config=RunConfig(max_workers=1, timeout=self.timeout_s, max_retries=1),
            show_progress=False,
            raise_exceptions=False,
        )
        assert isinstance(result, EvaluationResult)  # not an Executor: return_executor=False
        row = result.scores[0]
        return {ours: _float(row.get(metric.name)) for ours, metric in metrics.items()}

    def supported(self, statement: str, passages: list[str]) -> bool | None:
        """The judge's verdict on the passages backing the statement; None when not judged."""

        from rag_app.chain.prompts import chat_prompt

        if self.judge is None:
            return None
        prompt = chat_prompt("judge_support").format_messages(
            passage="\n\n".join(passages), statement=statement
        )
        reply = self.judge.invoke(prompt)
        return parse_verdict(str(reply.content))

    def citations(self, record: Record) -> dict[str, float]:
        answer = record.answer
        texts = {c["n"]: c["text"] for c in answer["contexts"]}
        sentences = cited_sentences(answer["answer"])
        valid = sum(len([n for n in numbers if n in texts]) for _, numbers in sentences)
        verdicts = [
            self.supported(sentence, [texts[n] for n in numbers if n in texts])
            for sentence, numbers in sentences
            if any(n in texts for n in numbers)
        ]
        judged = [v for v in verdicts if v is not None]
        return {
            "citation_validity": citation_validity(valid, len(answer["invalid_citations"])),
            "citation_support": sum(judged) / len(judged) if judged else math.nan,
            "cited_any": 1.0 if answer["citations"] else 0.0,
        }

    def score(self, record: Record) -> dict[str, float]:
        if not record.question.answerable or record.answer["abstained"]:
            return {}  # nothing to judge; abstention is counted from the record itself
        return {**self.ragas(record), **self.citations(record)}


def _float(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def _mean(values: Iterable[float]) -> tuple[float, int]:
    """Mean over the measured values, and how many were measured (NaN = not measured)."""
    kept = [v for v in values if v is not None and not math.isnan(v)]
    return (sum(kept) / len(kept) if kept else math.nan), len(kept)


def summarise(records: list[Record]) -> dict[str, Any]:
    answerable = [r for r in records if r.question.answerable]
    unanswerable = [r for r in records if not r.question.answerable]
    answered = [r for r in answerable if not r.answer["abstained"]]
    metrics: dict[str, float] = {}
    measured: dict[str, int] = {}
    for name in (*RAGAS_METRICS, *CHECKS):
        values = ((r.scores or {}).get(name, math.nan) for r in answered)
        metrics[name], measured[name] = _mean(values)

    def latency(rs: list[Record], stage: str) -> dict[str, float]:
        seconds = [r.answer["timings"][stage] for r in rs if stage in r.answer["timings"]]
        return {"p50_ms": percentile_ms(seconds, 50), "p95_ms": percentile_ms(seconds, 95)}

    return {
        "answerable": {
            "questions": len(answerable),
            "answered": len(answered),
            "quoted": quoted(answerable),
            "redrawn": redrawn(answerable),
            "abstention_rate": 1 - len(answered) / len(answerable) if answerable else math.nan,
            "refused_by": refusals(answerable),
            "metrics": metrics,
            "measured": measured,
        },
        "unanswerable": {
            "questions": len(unanswerable),
            "abstained": sum(1 for r in unanswerable if r.answer["abstained"]),
            "abstention_rate": (
                sum(1 for r in unanswerable if r.answer["abstained"]) / len(unanswerable)
                if unanswerable
                else math.nan
            ),
            "refused_by": refusals(unanswerable),
            "quoted": quoted(unanswerable),
            "redrawn": redrawn(unanswerable),
        },
        "latency": {
            "first_token": latency(answered, "first_token"),
            "answer": latency(answered, "llm"),
            "retrieve": latency(records, "retrieve"),
            "responds": latency(records, "responds"),  # the check, after the answer
        },
        "prompt": prompt_sizes(answered),
    }


def refusal(record: Record) -> str:
    """Which stage refused an answer: the retrieval gate (the LLM was never asked), the support
    checks (the LLM answered, its reply was withheld), or the LLM itself; "" when answered."""
    answer = record.answer
    if not answer["abstained"]:
        return ""
    if answer.get("withheld"):
        return "withheld"
    return "llm" if answer.get("usage") else "gate"


def quoted(records: list[Record]) -> int:
    """Answers that are a document's sentence shown in place of a withheld reply
    (chain/quote.py); a quote is never an abstention."""
    return sum(1 for record in records if record.answer.get("quoted"))


def redrawn(records: list[Record]) -> int:
    """Answers shown from a reply the model wrote again after the checks stopped or flagged
    its first (settings `redraws`); a record from before the setting has no `draws`."""
    return sum(
        1
        for record in records
        if (record.answer.get("draws") or 1) > 1
        and not record.answer["abstained"]
        and not record.answer.get("quoted")
    )


def refusals(records: list[Record]) -> dict[str, int]:
    counts = {"gate": 0, "llm": 0, "withheld": 0}
    for record in records:
        if stage := refusal(record):
            counts[stage] += 1
    return counts


def prompt_sizes(records: list[Record]) -> dict[str, float]:
    """Medians of what the LLM reported per answer: where the time to first token went."""
    usages = [r.answer["usage"] for r in records if r.answer.get("usage")]

    def median(key: str) -> float:
        values = [u[key] for u in usages if u.get(key) is not None]
        return float(statistics.median(values)) if values else math.nan

    keys = ("prompt_tokens", "cached_tokens", "prefill_tokens_per_s", "output_tokens")
    return {"answers": float(len(usages)), **{key: median(key) for key in keys}}


def prompt_line(sizes: Mapping[str, float]) -> str:
    if not sizes.get("answers"):
        return "The LLM reported no token counts."
    return (
        f"Prompt per answer (median of {sizes['answers']:.0f}): {sizes['prompt_tokens']:.0f} "
        f"tokens, {sizes['cached_tokens']:.0f} of them reused from the previous prompt; "
        f"prefill {sizes['prefill_tokens_per_s']:.1f} tokens/s; "
        f"{sizes['output_tokens']:.0f} tokens generated."
    )


def fingerprint(settings: Settings, extra: Mapping[str, Any]) -> dict[str, Any]:
    """What the answers and scores depend on; a resumed run must match it."""
    from rag_app.chain.prompts import PROMPTS_DIR

    prompts = hashlib.sha256()
    for path in sorted(PROMPTS_DIR.iterdir(), key=lambda p: p.name):
        if path.name.endswith((".md", ".json")):
            prompts.update(path.read_bytes())
    fields = settings.model_dump(
        exclude={"home", "models_dir", "llm_api_key", "judge_api_key", "judge_timeout_s"},
        mode="json",
    )
    return {**fields, **extra, "prompts_sha256": prompts.hexdigest()[:16]}


def config_changes(previous: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """The keys whose values differ. A setting on one side only (added to or dropped from
    rag_app since the earlier run) differs only when it is off its default: at its default it
    cannot have changed the answers, and a long judged run should outlive such a change."""
    defaults = Settings.model_construct().model_dump(mode="json")
    absent = object()

    def value(config: Mapping[str, Any], key: str) -> Any:
        return config.get(key, defaults.get(key, absent))

    return sorted(k for k in {*previous, *current} if value(previous, k) != value(current, k))


def check_run_config(out: Path, config: Mapping[str, Any]) -> None:
    """A run resumes in `out` only under the configuration it started with (`run.json`,
    written here on the first run): mixed results would measure nothing."""
    run_file = out / "run.json"
    if run_file.is_file():
        changed = config_changes(json.loads(run_file.read_text()), config)
        if changed:
            raise InvalidInput(
                f"{out} holds results from another configuration (differs in: "
                f"{', '.join(changed)}); use a new --out or --fresh"
            )
    out.mkdir(parents=True, exist_ok=True)
    write_json(run_file, config)


class AnswerEvaluation:
    """Answers and scores a question set into `out`, resumably."""

    def __init__(
        self,
        out: Path,
        answer: Callable[[str], Answer],
        scorer: Scorer,
        config: Mapping[str, Any],
    ) -> None:
        self.out = out
        self.answer = answer
        self.scorer = scorer
        self.config = dict(config)
        self.path = out / "answers.jsonl"

    def _load(self, questions: list[Question]) -> dict[str, Record]:
        check_run_config(self.out, self.config)
        by_id = {q.id: q for q in questions}
        records: dict[str, Record] = {}
        for data in self._saved_lines():
            if data["id"] in by_id:  # the last line per question wins
                answer = {k: data.get(k) for k in ANSWER_KEYS}  # "usage" is newer than some
                records[data["id"]] = Record(by_id[data["id"]], answer, data.get("scores"))
        return records

    def _saved_lines(self) -> list[dict[str, Any]]:
        return appended_lines(self.path)

    def _append(self, record: Record) -> None:
        with self.path.open("a", encoding="utf-8") as lines:
            lines.write(json.dumps(record.to_json(), ensure_ascii=False, allow_nan=True) + "\n")

    def run(self, questions: list[Question], progress: bool = False) -> list[Record]:
        records = self._load(questions)
        todo = [q for q in questions if records.get(q.id) is None or records[q.id].scores is None]
        from tqdm import tqdm

        done = len(questions) - len(todo)
        with tqdm(total=len(questions), initial=done, unit="q", disable=not progress) as bar:
            for question in todo:
                record = records.get(question.id)
                if record is None:
                    bar.set_description("answering")
                    record = Record(question, answer_record(self.answer(question.question)))
                    self._append(record)
                bar.set_description("judging")
                record.scores = self.scorer.score(record)
                self._append(record)
                records[question.id] = record
                bar.update()
        return [records[q.id] for q in questions]


def refused_line(part: Mapping[str, Any]) -> str:
    counts = part["refused_by"]
    return (
        f"the retrieval gate {counts['gate']}, the LLM {counts['llm']}, "
        f"the support checks {counts['withheld']}"
    )


def feedback_line(settings: Settings) -> str:
    """The chat page's ratings of the collection's answers, when there are any: its downvoted
    questions are ones worth adding to the question set."""
    rated = ratings(settings.feedback_file)
    if not rated:
        return ""
    return (
        f"Chat-page ratings of collection `{settings.collection}`: {tally(rated)}; "
        f"`rag feedback list --collection {settings.collection}` shows the downvoted questions "
        "with their notes."
    )


def write_answers_report(
    records: list[Record],
    config: Mapping[str, Any],
    out: Path,
    wall_seconds: float,
    title: str,
    feedback: str = "",
) -> dict[str, Any]:
    summary = {
        "summary": summarise(records),
        "config": config,
        **provenance(),
        "wall_seconds": round(wall_seconds, 1),
    }
    write_json(out / "summary.json", summary)
    s = summary["summary"]
    a, u = s["answerable"], s["unanswerable"]
    rows = {
        name: {"mean": a["metrics"][name], "measured": a["measured"][name]}
        for name in (*RAGAS_METRICS, *CHECKS)
    }
    lat = s["latency"]
    lines = [
        f"# Answers: {title}",
        "",
        f"Answerable questions: {a['questions']}, answered {a['answered']} "
        f"({a['quoted']} by a quote of a withheld reply's document, {a['redrawn']} by a "
        "redraw; "
        f"abstention rate {a['abstention_rate']:.2f}; refused by {refused_line(a)}). "
        "Means over the answered ones; "
        "`measured` counts answers the metric could score (the rest were NaN: judge output "
        "unparseable, no reference, or no citation).",
        "",
        markdown_table(rows, ["mean", "measured"], "metric"),
        "",
        f"Unanswerable questions (the documents lack the answer): {u['questions']}, "
        f"abstained on {u['abstained']} (rate {u['abstention_rate']:.2f}; refused by "
        f"{refused_line(u)}; answered by a quote {u['quoted']}, by a redraw {u['redrawn']}).",
        "",
        markdown_table(
            {stage: values for stage, values in lat.items()}, ["p50_ms", "p95_ms"], "latency"
        ),
        "",
        prompt_line(s.get("prompt", {})),
        "",
        f"Answer model `{config.get('llm_model')}`, judge `{config.get('judge')}`. "
        f"Commit {summary['git_commit']}, {summary['date']}, "
        f"wall time {summary['wall_seconds']} s.",
        "",
        *([feedback, ""] if feedback else []),
        "![metrics](metrics.png)",
        "",
    ]
    (out / "summary.md").write_text("\n".join(lines))
    bar_chart(
        {
            **{k: a["metrics"][k] for k in (*RAGAS_METRICS, *CHECKS)},
            "abstained (unanswerable)": u["abstention_rate"],
        },
        out / "metrics.png",
        title,
    )
    return summary


def evaluate_answers(
    questions_file: Path,
    docs: Path,
    settings: Settings,
    out: Path,
    limit: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    unanswerable: str | None = None,
    relevancy_questions: int = 3,
    judge_metrics: str = "all",
    fresh: bool = False,
    progress: bool = False,
    judge_llm: Any = None,
    **overrides: Unpack[Overrides],
) -> dict[str, Any]:
    """Ingest `docs` (incrementally) into the configured collection, answer the selected
    questions with the chain, score them with the judge, write the report. `judge_llm` and
    `overrides` (chain parts, as for `build_chain`) replace the configured models."""
    import shutil

    from eval.questions import load_questions, select
    from ingest.pipeline import Ingestor
    from rag_app.models.embeddings import get_embedder
    from rag_app.models.llm import make_chat_model
    from rag_app.tuning.abstention import calibrate_collection

    started = time.perf_counter()
    questions = select(load_questions(questions_file, unanswerable), limit, sample, seed)
    with Ingestor(settings) as ingestor:
        report = ingestor.run([docs], progress=progress)
    if not report.ok:
        raise UserError(f"ingesting {docs} failed: {report.failures()[:3]}")
    if report.changed():  # as `rag ingest` does: the gate is fitted to what was ingested
        calibrate_collection(settings)
    judge = judge_settings(settings)
    judged = judge_llm is not None or judge is not None
    judge_name = f"{judge.llm_backend}:{judge.llm_model}" if judge else "none"
    config = fingerprint(
        settings,
        {
            "judge": judge_name if judge_llm is None else f"given ({judge_name})",
            "docs": str(docs.resolve()),
            "questions_file": str(questions_file.resolve()),
            "relevancy_questions": relevancy_questions,
            "judge_metrics": judge_metrics if judged else "none",
        },
    )
    if fresh and out.exists():
        shutil.rmtree(out)
    chain = build_chain(settings, **overrides)
    if judge_llm is None and judge is not None:
        judge_llm = make_chat_model(judge)
    scorer = Scorer(
        judge_llm,
        get_embedder(settings.embedding_model, settings.embedding_batch_size),
        settings.judge_timeout_s,
        relevancy_questions,
        ragas_judge=judge_metrics == "all",
    )
    evaluation = AnswerEvaluation(out, lambda q: chain.invoke({"question": q}), scorer, config)
    records = evaluation.run(questions, progress)
    title = f"{questions_file.name} over {docs.name} ({len(records)} questions)"
    wall_seconds = time.perf_counter() - started
    return write_answers_report(records, config, out, wall_seconds, title, feedback_line(settings))
