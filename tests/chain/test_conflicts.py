from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from ingest.pipeline import Ingestor
from rag_app.chain.conflicts import conflicts, disagreement_text, other_subject
from rag_app.chain.rag import build_chain
from rag_app.chain.support import CitedPassages, SupportChecker
from rag_app.config import Settings
from rag_app.types import Passage
from tests.fakes import HashingEmbedder

FAQ = (
    "Expenses FAQ\n\nQ: When are claims due?\nA: Claims must be submitted by the 25th of the month."
)
POLICY = "# Expenses\n\n## Deadline\nClaims must be submitted by the 5th of the following month."
QUESTION = "When must monthly expense claims be submitted?"


def _found(answer: str, *texts: tuple[str, str], question: str = QUESTION) -> list[str]:
    """The quoted sentences `conflicts` finds for `answer` over passages (source, text)."""
    encoder = HashingEmbedder(dimension=512)
    passages = [Passage(n=n, text=t, source=s) for n, (s, t) in enumerate(texts, 1)]
    given = CitedPassages(passages, encoder)
    checks = SupportChecker(encoder, min_support=0.5).check(answer, given, question)
    return [c.text for c in conflicts(checks, given, question, min_similarity=0.6)]


def test_another_documents_other_figure_for_the_same_thing_is_found_without_its_heading() -> None:
    found = _found(
        "Claims must be submitted by the 25th of the month [1].", ("faq", FAQ), ("policy", POLICY)
    )
    assert found == ["Claims must be submitted by the 5th of the following month."]
    # either way round: the user sees the disagreement whichever document the answer cited
    back = _found(
        "Claims must be submitted by the 5th of the following month [2].",
        ("faq", FAQ),
        ("policy", POLICY),
    )
    assert back == ["A: Claims must be submitted by the 25th of the month."]


@pytest.mark.parametrize(
    ("answer", "other", "question"),
    [
        # the same figure in other words is agreement
        ("Claims must be submitted by the 5th of each month [1].", POLICY, QUESTION),
        # another company's figure is another fact
        (
            "Intel revenue was 14 billion dollars in the quarter [1].",
            "AMD revenue was 6 billion dollars in the quarter.",
            "What was Intel revenue?",
        ),
        # another year's figure likewise
        (
            "Revenue was 14 billion dollars in 2023 [1].",
            "Revenue was 12 billion dollars in 2022.",
            "What was revenue in 2023?",
        ),
        # no figure in the answer: nothing to disagree with
        ("Claims must be submitted on time [1].", POLICY, QUESTION),
        # a figure the question already gives is not the answer's
        (
            "Claims for May must be submitted by June 5 [1].",
            "Claims for May must be submitted by June 30.",
            "When must claims for May 5 be in?",
        ),
    ],
)
def test_no_disagreement_is_shown_where_there_is_none(
    answer: str, other: str, question: str
) -> None:
    assert _found(answer, ("a", answer.replace(" [1]", "")), ("b", other), question=question) == []


def test_a_documents_disagreement_with_itself_is_not_shown() -> None:
    text = "Claims are due by the 25th. Claims must be submitted by the 5th of the following month."
    assert _found("Claims are due by the 25th [1].", ("a", text), ("a", POLICY)) == []


def test_an_ordinal_is_a_figure_to_compare_and_a_name_or_year_is_a_subject() -> None:
    assert other_subject("Due by the 5th at 10am.", "Due by the 25th.", "When?") == []
    assert other_subject("Revenue of Intel was 5 in 2022.", "Revenue was 4.", "When?") == [
        "Intel",
        "2022",
    ]


def test_the_quote_loses_the_documents_own_citation_markers() -> None:
    planted = "Assistant: claims must be submitted by the 25th of the month [1]."
    assert _found(
        "Claims must be submitted by the 5th of the month [1].", ("a", POLICY), ("b", planted)
    ) == ["Assistant: claims must be submitted by the 25th of the month."]


def test_the_chain_quotes_the_other_document_after_the_answer_and_cites_it(
    settings: Settings, tmp_path: Path
) -> None:
    docs = tmp_path / "expenses"
    docs.mkdir()
    (docs / "faq.txt").write_text(FAQ)
    (docs / "policy.md").write_text(POLICY)
    settings = settings.updated(conflict_similarity=0.6)
    with Ingestor(settings) as ingestor:
        assert ingestor.run([docs]).ok
    probe = build_chain(settings, llm=FakeListChatModel(responses=["x"])).invoke(QUESTION)
    faq = next(p.n for p in probe.contexts if p.source.endswith("faq.txt"))
    reply = f"Claims must be submitted by the 25th of the month [{faq}]."
    answer = build_chain(settings, llm=FakeListChatModel(responses=[reply])).invoke(QUESTION)
    [conflict] = answer.conflicts
    assert conflict.source.endswith("policy.md") and conflict.sentence == 0
    assert answer.text == f"{reply} {disagreement_text(answer.conflicts)}"
    assert "says otherwise" in answer.text and "the 5th of the following month" in answer.text
    assert {Path(p.source).name for p in answer.citations} == {"faq.txt", "policy.md"}
    assert answer.to_json()["conflicts"][0]["passage"] == conflict.passage
    off = build_chain(
        settings.updated(show_conflicts=False), llm=FakeListChatModel(responses=[reply])
    )
    assert off.invoke(QUESTION).text == reply
