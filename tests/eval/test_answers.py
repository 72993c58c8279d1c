import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from eval.answers import (
    AnswerEvaluation,
    Record,
    Scorer,
    answer_record,
    citation_validity,
    cited_sentences,
    config_changes,
    evaluate_answers,
    summarise,
)
from eval.questions import Question
from rag_app.config import Settings
from rag_app.feedback import ShownAnswer, record
from rag_app.types import Answer, Passage
from tests.eval.fake_judge import FakeJudge

QUESTION = "When is the shed closed?"


def _answer(text: str, abstained: bool = False, invalid: list[int] | None = None) -> Answer:
    passages = [
        Passage(n=1, text="The shed is closed on Mondays.", source="/d/shed.md"),
        Passage(n=2, text="Tools go back on the wall.", source="/d/tools.md"),
    ]
    return Answer(
        question=QUESTION,
        text=text,
        contexts=passages,
        citations=[] if abstained else passages[:1],
        invalid_citations=invalid or [],
        abstained=abstained,
        timings={"retrieve": 0.01, "first_token": 0.5, "llm": 1.0},
    )


def test_cited_sentences_keep_markers_with_their_sentence() -> None:
    text = "The shed is closed on Mondays [1]. Tools hang on the wall [2][1]. No source here."
    assert cited_sentences(text) == [
        ("The shed is closed on Mondays.", [1]),
        ("Tools hang on the wall.", [2, 1]),
    ]


def test_citation_validity_counts_markers_and_is_nan_without_any() -> None:
    assert citation_validity(3, 1) == 0.75
    assert math.isnan(citation_validity(0, 0))


def _scorer(judge: FakeJudge) -> Scorer:
    return Scorer(judge, DeterministicFakeEmbedding(size=16), timeout_s=60, relevancy_questions=1)


def test_two_question_run_with_a_fake_judge(tmp_path: Path, no_network: list[object]) -> None:
    """The pipeline end to end: RAGAS metrics, our checks, abstention, the report files; RAGAS
    (telemetry included) makes no network call."""
    questions = [
        Question("q1", QUESTION, reference="It is closed on Mondays."),
        Question("q2", "Who built GLM-130B?", answerable=False),
    ]
    replies = {
        QUESTION: _answer("The shed is closed on Mondays [1].", invalid=[7]),
        "Who built GLM-130B?": _answer("The documents do not answer this.", abstained=True),
    }
    judge = FakeJudge(question=QUESTION)
    evaluation = AnswerEvaluation(tmp_path, replies.__getitem__, _scorer(judge), {"run": 1})
    records = evaluation.run(questions)

    scores = records[0].scores
    assert scores is not None
    assert scores["faithfulness"] == 1.0
    assert scores["context_precision"] == pytest.approx(1.0)
    assert scores["context_recall"] == 1.0
    assert scores["answer_relevancy"] == pytest.approx(1.0)  # same question back, same vector
    assert 0.0 < scores["string_similarity"] < 1.0
    assert scores["citation_validity"] == 0.5  # [1] valid, [7] not
    assert scores["citation_support"] == 1.0
    assert records[1].scores == {}  # unanswerable: judged on abstention only
    assert not any("GLM" in call for call in judge.calls)

    summary = summarise(records)
    assert summary["answerable"]["answered"] == 1
    assert summary["unanswerable"]["abstention_rate"] == 1.0

    lines = [json.loads(line) for line in (tmp_path / "answers.jsonl").read_text().splitlines()]
    assert {line["id"] for line in lines} == {"q1", "q2"}
    assert lines[-1]["abstained"] is True
    assert no_network == []


def test_without_a_judge_only_the_judge_free_metrics_are_scored(tmp_path: Path) -> None:
    scorer = Scorer(None, DeterministicFakeEmbedding(size=16), 60, 1)
    question = Question("q1", QUESTION, reference="It is closed on Mondays.")
    answer = _answer("The shed is closed on Mondays [1].", invalid=[7])
    records = AnswerEvaluation(tmp_path, lambda q: answer, scorer, {"run": 1}).run([question])

    scores = records[0].scores
    assert scores is not None
    assert not {"faithfulness", "answer_relevancy", "context_precision", "context_recall"} & set(
        scores
    )
    assert 0.0 < scores["string_similarity"] < 1.0
    assert scores["citation_validity"] == 0.5 and scores["cited_any"] == 1.0
    assert math.isnan(scores["citation_support"])
    summary = summarise(records)["answerable"]
    assert summary["measured"]["faithfulness"] == 0 and summary["measured"]["cited_any"] == 1


def test_a_citations_only_judge_checks_support_and_runs_no_ragas_judge(tmp_path: Path) -> None:
    judge = FakeJudge(question=QUESTION)
    scorer = Scorer(judge, DeterministicFakeEmbedding(size=16), 60, 1, ragas_judge=False)
    question = Question("q1", QUESTION, reference="It is closed on Mondays.")
    answer = _answer("The shed is closed on Mondays [1].")
    records = AnswerEvaluation(tmp_path, lambda q: answer, scorer, {"run": 1}).run([question])
    scores = records[0].scores
    assert scores is not None and scores["citation_support"] == 1.0
    assert "faithfulness" not in scores and 0.0 < scores["string_similarity"] < 1.0
    assert len(judge.calls) == 1  # the one support verdict, nothing for RAGAS


def test_a_judge_that_disagrees_lowers_the_scores(tmp_path: Path) -> None:
    judge = FakeJudge(verdict=0, question="Something else entirely?")
    evaluation = AnswerEvaluation(
        tmp_path, lambda q: _answer("Closed on Mondays [1]."), _scorer(judge), {"run": 1}
    )
    [record] = evaluation.run([Question("q1", QUESTION, reference="Mondays.")])
    assert record.scores is not None
    assert record.scores["faithfulness"] == 0.0
    assert record.scores["citation_support"] == 0.0
    assert record.scores["answer_relevancy"] < 0.9


def test_unparseable_judge_output_gives_nan_not_a_score(tmp_path: Path) -> None:
    judge = FakeListChatModel(responses=["I am not JSON"])
    scorer = Scorer(judge, DeterministicFakeEmbedding(size=16), 60, 1)
    record = Record(Question("q1", QUESTION), answer_record(_answer("Closed on Mondays [1].")))
    scores = scorer.score(record)
    assert math.isnan(scores["faithfulness"])
    assert math.isnan(scores["citation_support"])  # "I am not JSON" is neither yes nor no
    assert "context_recall" not in scores  # needs a reference


def _first_of_two_answered(
    out: Path,
) -> tuple[list[Question], list[str], Callable[[str], Answer], FakeJudge]:
    """Two questions, the first answered and scored in `out`; `asked` records every question
    the chain is asked from then on too."""
    questions = [Question("q1", QUESTION, reference="Mondays."), Question("q2", "Tools?")]
    asked: list[str] = []

    def answer(q: str) -> Answer:
        asked.append(q)
        return _answer("Closed on Mondays [1].")

    judge = FakeJudge(question=QUESTION)
    AnswerEvaluation(out, answer, _scorer(judge), {"run": 1}).run(questions[:1])
    return questions, asked, answer, judge


def test_rerun_resumes_and_refuses_another_configuration(tmp_path: Path) -> None:
    questions, asked, answer, judge = _first_of_two_answered(tmp_path)
    AnswerEvaluation(tmp_path, answer, _scorer(judge), {"run": 1}).run(questions)
    assert asked == [QUESTION, "Tools?"]  # q1 was not answered again

    with pytest.raises(ValueError, match=r"another configuration .*run"):
        AnswerEvaluation(tmp_path, answer, _scorer(judge), {"run": 2}).run(questions)


def test_a_run_killed_mid_append_resumes(tmp_path: Path) -> None:
    questions, asked, answer, judge = _first_of_two_answered(tmp_path)
    with (tmp_path / "answers.jsonl").open("a") as lines:
        lines.write('{"id": "q2", "question": "Too')  # the kill came mid-write

    records = AnswerEvaluation(tmp_path, answer, _scorer(judge), {"run": 1}).run(questions)

    assert asked == [QUESTION, "Tools?"]
    assert [r.question.id for r in records] == ["q1", "q2"]
    saved = (tmp_path / "answers.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in saved] == ["q1", "q1", "q2", "q2"]


def test_a_corrupt_line_before_the_last_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "answers.jsonl").write_text('not json\n{"id": "q1"}\n')
    evaluation = AnswerEvaluation(tmp_path, lambda q: _answer("x"), _scorer(FakeJudge()), {})
    with pytest.raises(ValueError, match=r"answers.jsonl:1: not JSON"):
        evaluation.run([Question("q1", QUESTION)])


@pytest.mark.integration
def test_evaluate_answers_through_the_real_chain(settings: Settings, docs_dir: Path) -> None:
    """Real ingestion, retrieval and chain (a scripted LLM); report files written."""
    questions = docs_dir.parent / "questions.jsonl"
    questions.write_text(
        json.dumps({"question": "When is the garden shed closed?", "reference": "Mondays."})
        + "\n"
        + json.dumps({"id": "glm", "question": "What is GLM-130B?"})
        + "\n"
    )
    out = docs_dir.parent / "out"
    summary = evaluate_answers(
        questions,
        docs_dir,
        settings,
        out,
        unanswerable="GLM",
        judge_llm=FakeJudge(question="When is the garden shed closed?"),
        llm=FakeListChatModel(responses=["The shed is closed on Mondays [1]."]),
    )
    s = summary["summary"]
    assert s["answerable"]["questions"] == 1
    assert s["unanswerable"]["questions"] == 1
    assert s["answerable"]["metrics"]["citation_validity"] == 1.0
    assert (out / "summary.md").read_text().startswith("# Answers:")
    assert (out / "metrics.png").stat().st_size > 1000


def test_judge_none_loads_no_judge_and_records_it(
    settings: Settings, docs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_model(*args: object) -> None:
        raise AssertionError("a judge model was loaded")

    monkeypatch.setattr("rag_app.models.llm.make_chat_model", no_model)
    questions = docs_dir.parent / "questions.jsonl"
    questions.write_text(json.dumps({"question": "When is the garden shed closed?"}) + "\n")
    out = docs_dir.parent / "out"
    shown = ShownAnswer(
        id="a", collection="default", question="Q?", asked="Q?", answer="A", cited=[]
    )
    record(settings.feedback_file, shown, "bob", "down", "wrong")
    summary = evaluate_answers(
        questions,
        docs_dir,
        settings.model_copy(update={"judge_backend": "none"}),
        out,
        llm=FakeListChatModel(responses=["The shed is closed on Mondays [1]."]),
    )
    assert summary["config"]["judge"] == "none"
    assert (
        "Chat-page ratings of collection `default`: 0 up, 1 down; `rag feedback list"
        in (out / "summary.md").read_text()
    )
    assert summary["summary"]["answerable"]["metrics"]["cited_any"] == 1.0
    assert summary["summary"]["answerable"]["measured"]["faithfulness"] == 0


@pytest.mark.integration
def test_our_embedder_works_as_the_ragas_embedding_model(tmp_path: Path) -> None:
    """RAGAS logs `embeddings.model` as a string; a real run once lost answer relevancy and
    semantic similarity to NaN because ours returned the SentenceTransformer there."""
    from rag_app.models.embeddings import get_embedder

    scorer = Scorer(FakeJudge(question=QUESTION), get_embedder("all-MiniLM-L6-v2"), 60, 1)
    record = Record(
        Question("q1", QUESTION, reference="It is closed on Mondays."),
        answer_record(_answer("The shed is closed on Mondays [1].")),
    )
    scores = scorer.score(record)
    assert scores["answer_relevancy"] == pytest.approx(1.0, abs=1e-3)
    assert 0.5 < scores["semantic_similarity"] <= 1.0


def test_a_setting_added_since_the_earlier_run_blocks_a_resume_only_off_its_default() -> None:
    earlier = {"top_k": 5, "judge": "llamacpp:qwen"}
    assert config_changes(earlier, {**earlier, "rerank_backend": "auto"}) == []
    assert config_changes(earlier, {**earlier, "rerank_backend": "torch"}) == ["rerank_backend"]
    assert config_changes(earlier, {"top_k": 5}) == ["judge"]  # not a setting: no default
    assert config_changes(earlier, {**earlier, "top_k": 8}) == ["top_k"]


def test_prompt_sizes_are_the_medians_the_llm_reported(tmp_path: Path) -> None:
    from eval.answers import prompt_line, prompt_sizes
    from rag_app.types import LLMUsage

    def answer(prompt: int, cached: int) -> Answer:
        usage = LLMUsage(prompt_tokens=prompt, cached_tokens=cached, prefill_seconds=1.0)
        return _answer("Closed [1].").model_copy(update={"usage": usage})

    questions = [Question(f"q{i}", f"{QUESTION} {i}") for i in range(3)]
    sizes_of = [(700, 0), (600, 180), (650, 180)]
    replies = dict(zip([q.question for q in questions], sizes_of, strict=True))
    scorer = Scorer(None, DeterministicFakeEmbedding(size=16), 60, 1)
    records = AnswerEvaluation(tmp_path, lambda q: answer(*replies[q]), scorer, {"run": 1}).run(
        questions
    )
    sizes = prompt_sizes(records)
    assert sizes["answers"] == 3 and sizes["prompt_tokens"] == 650
    assert sizes["cached_tokens"] == 180 and sizes["prefill_tokens_per_s"] == 470
    assert "650 tokens, 180 of them reused" in prompt_line(sizes)
    assert prompt_line(prompt_sizes([])) == "The LLM reported no token counts."


def test_refusals_name_the_stage_that_refused_and_survive_the_record(tmp_path: Path) -> None:
    """A lost answerable question is told apart by stage: the gate never asks the LLM, the
    LLM's own abstention reports usage, a withheld reply carries its reason."""
    from eval.answers import refusals
    from rag_app.types import LLMUsage, SentenceCheck

    usage = LLMUsage(prompt_tokens=500)
    unsupported = SentenceCheck(text="Made up.", citations=[1], verdict="unsupported")
    replies = {
        "q gate": _answer("The documents do not answer this.", abstained=True),
        "q llm": _answer("-", abstained=True).model_copy(update={"usage": usage}),
        "q withheld": _answer("-", abstained=True).model_copy(
            update={"usage": usage, "withheld": "no support", "sentences": [unsupported]}
        ),
        "q answered": _answer("Closed on Mondays [1].").model_copy(update={"usage": usage}),
    }
    questions = [Question(q, q) for q in replies]
    scorer = Scorer(None, DeterministicFakeEmbedding(size=16), 60, 1)
    AnswerEvaluation(tmp_path, lambda q: replies[q], scorer, {"run": 1}).run(questions)
    # read back from answers.jsonl, as a resumed run or a later report does
    records = AnswerEvaluation(tmp_path, lambda q: pytest.fail("redone"), scorer, {"run": 1}).run(
        questions
    )
    assert refusals(records) == {"gate": 1, "llm": 1, "withheld": 1}
    withheld = records[2].answer
    assert withheld["withheld"] == "no support"
    assert withheld["sentences"][0]["verdict"] == "unsupported"
