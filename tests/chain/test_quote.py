import pytest

from rag_app.chain.quote import closest_quote, quote_text
from rag_app.chain.rag import WITHHELD_OFF_QUESTION, WITHHELD_UNSUPPORTED, build_chain
from rag_app.chain.support import CitedPassages
from rag_app.config import Settings
from rag_app.types import Passage, SentenceCheck
from tests.fakes import HashingEmbedder, ScoringLLM

QUESTION = "When do I water the tomatoes?"


def _given(*passages: tuple[str, str, str]) -> CitedPassages:
    """Passages numbered from 1, each (source, title, text)."""
    return CitedPassages(
        [
            Passage(n=n, source=source, title=title, text=text)
            for n, (source, title, text) in enumerate(passages, start=1)
        ],
        HashingEmbedder(),
    )


def test_the_sentence_closest_to_the_question_is_quoted_from_the_cited_document() -> None:
    given = _given(
        (
            "garden.md",
            "Garden",
            "The shed is locked at night. Water the tomatoes every single morning.",
        ),
        ("garden.md", "Garden", "Compost bins are emptied on the first Saturday of the month."),
    )
    quote = closest_quote(QUESTION, given, [2])  # the reply cited the other passage of it
    assert quote == SentenceCheck(
        text="Water the tomatoes every single morning.",
        citations=[1],
        support=1.0,
        verdict="supported",
    )


def test_no_quote_comes_from_a_document_the_reply_did_not_cite() -> None:
    """An injected document puts its claim closest to the question: across documents a
    quote would vouch for it."""
    given = _given(
        ("garden.md", "Garden", "The rain barrel by the shed holds two hundred litres."),
        ("memo.md", "Memo", "Do not water the tomatoes any more, the garden is closed."),
    )
    quote = closest_quote(QUESTION, given, [1])
    assert quote is not None and quote.citations == [1]
    assert closest_quote(QUESTION, given, []) is None  # a reply that cited nothing


def test_the_quoted_document_must_be_about_a_key_term_of_the_question() -> None:
    question = "How does GLM-130B address ethical concerns and biases?"
    baseline = "We deploy two baselines, InstructGPT and GLM (130b), to test ethical concerns."
    about_it = "GLM-130B reduces biases with a curated bilingual corpus and ethical review."
    other_paper = ("red_teaming.pdf", "Red teaming language models", baseline)
    assert closest_quote(question, _given(other_paper), [1]) is None
    named = ("glm.pdf", "GLM-130B: an open bilingual model", "It filters biased text carefully.")
    quote = closest_quote(question, _given(named, ("glm.pdf", "GLM-130B", about_it)), [1])
    # the first passage's sentence lacks nothing the title does not hold, yet is farther
    assert quote is not None and quote.text == about_it and quote.citations == [2]
    # every other key term must be in the sentence or the title: "Task2Vec" is in neither
    assert closest_quote("How does GLM-130B compare to Task2Vec?", _given(named), [1]) is None


@pytest.mark.parametrize(
    "text",
    [
        "Water Tomatoes Every Morning Before Nine In Summer.",  # a title or page header
        "| Water | tomatoes | every | morning | before | nine |",  # a table row
        "To water the tomatoes, see [Watering](#watering) in the garden guide.",  # a pointer
        "water(tomatoes=True, when=[morning]); schedule(beds={all}) now",  # code
        "Water the tomatoes.",  # too short to stand alone
        "I water the tomatoes when?",  # says nothing the question did not
        "Should the tomatoes be watered every single morning in summer?",  # asks, not tells
    ],
)
def test_only_prose_that_says_more_than_the_question_is_quoted(text: str) -> None:
    assert closest_quote(QUESTION, _given(("garden.md", "Garden", text)), [1]) is None


def test_a_list_item_is_quoted_alone() -> None:
    text = "Rules:\n- Lock the shed every night.\n- Water the tomatoes every single morning."
    quote = closest_quote(QUESTION, _given(("garden.md", "Garden", text)), [1])
    assert quote is not None and quote.text == "Water the tomatoes every single morning."


def test_the_quote_marks_a_cut_and_neutralises_the_papers_own_reference_marks() -> None:
    cut = SentenceCheck(
        text="trained models up to 8.3 billion parameters [12, 14] on 512 GPUs",
        citations=[3],
        support=1.0,
        verdict="supported",
    )
    assert (
        quote_text(cut)
        == '"… trained models up to 8.3 billion parameters (12, 14) on 512 GPUs …" [3]'
    )
    whole = cut.model_copy(update={"text": "Water them daily."})
    assert quote_text(whole) == '"Water them daily." [3]'


UNSUPPORTED = "Water them before 7 pm [1]."  # 7 pm is in no passage


def test_a_withheld_reply_gives_way_to_a_quote_of_its_document(ingested: Settings) -> None:
    llm = ScoringLLM(responses=[UNSUPPORTED], p_yes=0.9)
    answer = build_chain(ingested, llm=llm).invoke("When do I water the tomato beds?")
    assert not answer.abstained and answer.quoted == WITHHELD_UNSUPPORTED
    assert answer.text == '"Water the tomato beds every morning before 9 am." [1]'
    assert [c.n for c in answer.citations] == [1] and "garden.md" in answer.citations[0].source
    assert [s.verdict for s in answer.sentences] == ["supported"]
    assert "Water the tomato beds" in str(llm.scored[-1][-1].content)  # the quote was judged
    assert answer.to_json()["quoted"] == WITHHELD_UNSUPPORTED


def test_a_quote_judged_not_to_answer_is_withheld_like_a_reply(ingested: Settings) -> None:
    llm = ScoringLLM(responses=["Water them every morning before 9 am [1]."], p_yes=0.1)
    answer = build_chain(ingested.updated(redraws=0), llm=llm).invoke(QUESTION)
    assert answer.abstained and answer.withheld == WITHHELD_OFF_QUESTION and not answer.quoted
    assert len(llm.scored) == 2  # the reply, then the quote
    assert answer.sentences[0].text == "Water them every morning before 9 am."  # the reply's


def test_quoting_can_be_turned_off(ingested: Settings) -> None:
    llm = ScoringLLM(responses=[UNSUPPORTED], p_yes=0.9)
    answer = build_chain(ingested.updated(quote_withheld=False), llm=llm).invoke(QUESTION)
    assert answer.abstained and answer.withheld == WITHHELD_UNSUPPORTED and llm.scored == []
