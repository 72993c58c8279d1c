import json
from collections.abc import Callable
from pathlib import Path

import pytest

from eval.questions import load_questions
from rag_app.config import Settings
from rag_app.store import CollectionStore
from rag_app.tuning.data import load_labelled
from rag_app.tuning.questions import (
    ChunkRecord,
    QuestionError,
    QuestionFilter,
    QuestionGenerator,
    example_form,
    generate_questions,
    parse_questions,
    progress_path,
    read_examples,
    read_progress,
    sample_chunks,
    standalone,
)
from rag_app.types import Chunk, Filters, ScoredChunk
from tests.fakes import RecordingLLM

LONG = " ".join(f"word{i}" for i in range(30))


def chunk(cid: str, source: str = "a.md", section: str | None = None, **extra: str) -> Chunk:
    return Chunk(id=cid, text=f"{cid} {LONG}", source=source, section=section, **extra)


class FakeRetriever:
    """Returns the chunks whose id the query names, else nothing."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self.chunks = chunks
        self.queries: list[str] = []

    def retrieve(self, query: str, k: int, filters: Filters | None = None) -> list[ScoredChunk]:
        self.queries.append(query)
        return [ScoredChunk(chunk=c, score=1.0) for c in self.chunks if c.id in query][:k]


def test_sampling_covers_every_document_and_section_before_repeating() -> None:
    children = [
        chunk(f"{s}-{sec}-{i}", source=s, section=sec)
        for s in ("a.md", "b.md", "c.md")
        for sec in ("Intro", "Setup")
        for i in range(3)
    ]
    children.append(Chunk(id="tiny", text="Too short to ask about.", source="a.md"))
    children.append(chunk("copy", source="a.md", duplicate_of="a.md-Intro-0"))
    order = sample_chunks(children, seed=1)
    assert {c.id for c in order} == {c.id for c in children} - {"tiny", "copy"}
    assert {c.source for c in order[:3]} == {"a.md", "b.md", "c.md"}
    # Each document's second chunk comes from its other section.
    for source in ("a.md", "b.md", "c.md"):
        first, second = [c.section for c in order if c.source == source][:2]
        assert first != second
    assert sample_chunks(children, seed=1) == order


def test_replies_are_parsed_into_questions_without_list_marks() -> None:
    reply = '1. What is A?\n\n- "What is B?"\nQ3: What is C?\n2) What is D?\nWhat is E?'
    assert parse_questions(reply, 4) == ["What is A?", "What is B?", "What is C?", "What is D?"]


def test_the_filter_keeps_only_standalone_new_specific_retrievable_questions() -> None:
    source = chunk("c1", section="Compost bins", parent_id="p1")
    sibling = chunk("c2", parent_id="p1")
    question_filter = QuestionFilter(FakeRetriever([source, sibling]), k=5)
    assert question_filter.judge("Why?", source).dropped == "not a question"
    assert question_filter.judge("What does the passage say about c1?", source).dropped == (
        "refers to the passage"
    )
    assert question_filter.judge("What are compost bins?", source).dropped == "restates the heading"
    assert question_filter.judge("When are the bins emptied each month?", source).dropped == (
        "not retrieved"
    )
    assert question_filter.judge("When is the c1 bin emptied each month?", source).dropped is None
    assert (
        question_filter.judge("Each month, when does the c1 bin get emptied?", source).dropped
        == "duplicate"
    )
    # A chunk of the same section counts as finding the source.
    assert question_filter.judge("Which tools does c2 need for turning?", source).dropped is None


def test_a_kept_question_records_where_the_round_trip_found_its_source() -> None:
    source, other = chunk("c1", source="a.md"), chunk("c9", source="b.md")
    question_filter = QuestionFilter(FakeRetriever([other, source]), k=5)
    assert question_filter.judge("Does c9 grow faster than c1 in May?", source).rank == 2
    assert question_filter.judge("When does the c1 bin get emptied?", source).rank == 1
    assert question_filter.judge("When are the bins emptied in May?", source).rank is None


def _generator(
    children: list[Chunk], responses: list[str], clock: Callable[[], float] | None = None
) -> tuple[QuestionGenerator, RecordingLLM]:
    llm = RecordingLLM(responses=responses)
    generator = QuestionGenerator(
        llm=llm,
        question_filter=QuestionFilter(FakeRetriever(children), k=5),
        collection="docs",
        per_chunk=2,
        examples=["Does compost need turning?"],
        **({"clock": clock} if clock else {}),
    )
    return generator, llm


def _reply(c: Chunk) -> str:
    return f"What happens to {c.id} in spring?\nWhat does the passage say?"


def test_generation_stops_at_the_count_and_resumes_without_asking_again(tmp_path: Path) -> None:
    children = [chunk(f"c{i}", source=f"d{i}.md") for i in range(6)]
    order = sample_chunks(children, seed=0)
    out = tmp_path / "set.jsonl"
    generator, llm = _generator(children, [_reply(c) for c in order])
    report = generator.run(children, out, count=2)
    assert (report.chunks, report.generated, report.kept) == (2, 4, 2)
    assert report.dropped == {"refers to the passage": 2} and report.stopped_by == "count"
    prompt = llm.prompts[0][0].content
    assert order[0].text in prompt and "Does compost need turning?" in prompt
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [q["chunk"] for q in lines] == [c.id for c in order[:2]]
    assert lines[0]["sources"] == [order[0].source] and lines[0]["generated"] is True
    assert lines[0]["rank"] == 1

    # A kill mid-write leaves half a line: that chunk is asked again, the others are not.
    log = progress_path(out)
    log.write_text(log.read_text() + '{"collection": "docs", "chu')
    generator, llm = _generator(children, [_reply(c) for c in order[2:]])
    report = generator.run(children, out, count=4)
    assert (report.chunks, report.kept) == (4, 4)
    assert len(llm.prompts) == 2 and order[2].text in llm.prompts[0][0].content
    assert len(out.read_text().splitlines()) == 4


def test_the_budget_stops_generation(tmp_path: Path) -> None:
    children = [chunk(f"c{i}", source=f"d{i}.md") for i in range(4)]
    ticks = iter(range(0, 10_000, 50))  # each reading of the clock is 50 s later
    generator, _ = _generator(
        children, [_reply(c) for c in sample_chunks(children, 0)], lambda: next(ticks)
    )
    report = generator.run(children, tmp_path / "set.jsonl", count=100, budget_minutes=2)
    assert report.stopped_by == "budget" and 0 < report.chunks < 4


def test_a_progress_log_of_another_collection_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "set.jsonl"
    record = ChunkRecord(collection="other", chunk="c", source="s", candidates=[], seconds=1)
    progress_path(out).write_text(record.model_dump_json() + "\n" + record.model_dump_json())
    with pytest.raises(QuestionError, match=r"set.jsonl.progress.jsonl:1: .*'other'"):
        read_progress(progress_path(out), "docs")


def test_examples_come_from_text_lines_or_jsonl(tmp_path: Path) -> None:
    text = tmp_path / "mine.txt"
    text.write_text("How do I water?\n\nWhen is compost emptied?\n")
    assert sorted(read_examples(text)) == ["How do I water?", "When is compost emptied?"]
    jsonl = tmp_path / "mine.jsonl"
    jsonl.write_text('{"question": "A?"}\n{"text": "B?"}\n')
    with pytest.raises(QuestionError, match=r"mine.jsonl:2: .*'question'"):
        read_examples(jsonl)


def quoting_writer(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, templates: list[str]
) -> None:
    """The chat model becomes one whose questions quote their chunk's opening words, which
    hybrid search leads back to it (so they survive the round trip)."""
    with CollectionStore(settings) as store:
        openings = {c.text[:80]: " ".join(c.text.split()[:8]) for c in store.state.children()}

    class Writer(RecordingLLM):
        def _call(self, messages, *args, **kwargs):  # type: ignore[no-untyped-def]
            prompt = str(messages[0].content)
            words = next(v for k, v in openings.items() if k in prompt)
            return "\n".join(t.format(words=words) for t in templates)

    monkeypatch.setattr("rag_app.models.llm.make_chat_model", lambda s: Writer(responses=[""]))


def test_a_generated_set_is_read_by_tune_and_by_eval(
    ingested: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with CollectionStore(ingested) as store:
        sources = list(store.state.documents())
    quoting_writer(ingested, monkeypatch, ["What does it mean that {words}?"])
    out = tmp_path / "generated.jsonl"
    report = generate_questions(ingested, out, count=3)
    assert report.kept == 3
    labelled = load_labelled(out, sources)
    assert len(labelled) == 3 and all(q.relevant <= set(sources) for q in labelled)
    assert not any(
        Path(s).is_absolute()
        for q in load_questions(out)
        for s in json.loads(out.read_text().splitlines()[0])["sources"]
    )
    assert [q.question for q in load_questions(out)] == [q.question for q in labelled]


@pytest.mark.integration
def test_a_collection_nobody_labelled_is_tuned_from_its_own_documents(
    ingested: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tune_from_documents` (the page's "Tune this collection"): questions, both models,
    and a gate measured on those questions, with every stage reported."""
    from rag_app.models.cards import EmbedderCard, RerankerCard
    from rag_app.tuning import tune_from_documents
    from rag_app.tuning.abstention import stored_calibration
    from rag_app.tuning.questions import kept_questions_path

    quoting_writer(
        ingested, monkeypatch, ["What does it mean that {words}?", "Why is it said that {words}?"]
    )
    settings = ingested.model_copy(
        update={
            "tune_keep_worse": True,  # a few steps on a handful of questions need not win
            "tune_epochs": 1,
            "tune_embedder_epochs": 1,
            "tune_batch_size": 4,
            "tune_embedder_batch_size": 4,
            "tune_validation_share": 0.25,
            "tune_max_length": 64,
            "tune_candidates": 6,
            "tune_negatives": 2,
        }
    )
    import shutil

    from rag_app.retrieval.rerank import tuned_reranker_dir
    from rag_app.tuning.embedder import tuned_embedder_root

    try:
        stages: list[str] = []
        cards = tune_from_documents(settings, count=6, on_stage=lambda s, d: stages.append(s))
        assert list(dict.fromkeys(stages)) == [
            "generating questions",
            "tuning the bi-encoder",
            "training the reranker",
            "calibrating",
        ]
        assert isinstance(cards["embedder"], EmbedderCard) and cards["embedder"].installed
        assert isinstance(cards["reranker"], RerankerCard) and cards["reranker"].installed
        questions = kept_questions_path(settings)
        assert len(questions.read_text().splitlines()) == 6
        with CollectionStore(settings) as store:
            calibration = stored_calibration(store)
        assert calibration is not None and calibration.own == 6
    finally:  # the models folder is shared by the whole run: later tests must not see these
        shutil.rmtree(tuned_reranker_dir(settings.models_dir, settings.collection), True)
        shutil.rmtree(tuned_embedder_root(settings.models_dir, settings.collection), True)


@pytest.mark.parametrize(
    ("written", "standalone_form"),
    [
        ("What is the AgDNV vector used in the study?", "What is the AgDNV vector?"),
        ("What is emergent ability according to the passage?", "What is emergent ability?"),
        ("According to the text, when does the shed open?", "When does the shed open?"),
        ("What is the main activity being described in the passage?", "What is the main activity?"),
        # the verb is the question's own: only the pointer goes
        ("How many subjects were included in the study?", "How many subjects were included?"),
        (
            "How was the scale abbreviated and used in this study?",
            "How was the scale abbreviated and used?",
        ),
        # "the context of" and a quoted title name things; a question about the passage stays
        (
            "How does `__call__` work in the context of FastAPI?",
            "How does `__call__` work in the context of FastAPI?",
        ),
        ("How does the passage describe the loss?", "How does the passage describe the loss?"),
        # a statement that opens by pointing at its source keeps its claim
        ("The study found that NAC prevents vasoconstriction.", "NAC prevents vasoconstriction."),
        ("This paper reports a 20% drop in mortality.", "A 20% drop in mortality."),
        ("The study of mice shows an effect.", "The study of mice shows an effect."),
    ],
)
def test_a_question_pointing_at_its_passage_is_made_standalone(
    written: str, standalone_form: str
) -> None:
    assert standalone(written) == standalone_form


def test_statement_examples_ask_for_claims_and_question_examples_for_questions() -> None:
    claims = ["Acute ablation of KRAS causes growth impairment.", "RA activates DIF2 cells."]
    assert example_form(claims) == "claims"
    assert example_form([*claims, "Does KRAS matter?", "Is RA needed?"]) == "questions"
    assert example_form([]) == "questions"
    children = [chunk("c1", source="d1.md")]
    forms = ((claims, "statements about this passage"), (["Does compost need?"], "Questions:"))
    for examples, asked in forms:
        llm = RecordingLLM(responses=["c1 grows in spring when watered."])
        generator = QuestionGenerator(
            llm=llm,
            question_filter=QuestionFilter(FakeRetriever(children), k=5),
            collection="docs",
            per_chunk=1,
            examples=examples,
        )
        record = generator._ask(children[0])
        prompt = str(llm.prompts[0][-1].content)
        assert asked in prompt and record.candidates[0].dropped is None
        # the examples come before the passage, where the model does not take them as its own
        assert prompt.index(examples[0]) < prompt.index(children[0].text)


def test_a_statement_copying_an_example_is_dropped_before_the_round_trip() -> None:
    source = chunk("c1")
    retriever = FakeRetriever([source])
    example = "Acute ablation of KRAS causes severe growth impairment in c1."
    question_filter = QuestionFilter(retriever, k=5, examples=[example])
    assert question_filter.judge(example, source).dropped == "copies an example"
    assert retriever.queries == []
    assert question_filter.judge("Ablation of c1 slows growth in mice.", source).dropped is None
