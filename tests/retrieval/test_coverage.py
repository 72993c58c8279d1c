from collections.abc import Callable

from rag_app.retrieval.coverage import key_terms, missing_terms, passing_mentions, term_frequency


def test_key_terms_are_names_models_figures_and_dates_not_grammar_or_counts() -> None:
    question = "What percentage of Apple's total revenue did the Services segment give in Q3 2023?"
    assert key_terms(question) == ["Apple", "Services", "Q3", "2023"]
    assert key_terms("How does GLM-130B's training differ from GPT-3.5 and LLaMA?") == [
        "GLM-130B",
        "GPT-3.5",
        "LLaMA",
    ]
    assert key_terms("How do I install it? Does FastAPI run on 2 cores?") == ["FastAPI"]
    assert key_terms("What are the top 3 features?") == []
    assert key_terms("Compare SQuAD v1.1,v2.0 results") == ["SQuAD", "v1.1", "v2.0"]


def test_a_term_is_missing_only_when_no_text_mentions_it_in_any_spelling() -> None:
    texts = ["Intel reported revenue for Q3 2023.", "GLM 130B and GPT-35 are mentioned."]
    terms = ["Apple", "Intel", "Q3", "2023", "GLM-130B", "GPT-3", "Mondays"]
    assert missing_terms(terms, texts) == ["Apple", "GPT-3", "Mondays"]
    assert missing_terms(["Mondays"], ["Open on Monday from 9."]) == []
    assert missing_terms(["Apple"], ["Pineapple sales"]) == ["Apple"]
    assert missing_terms(["Apple"], ["Apples and pears"]) == []


def test_a_compound_key_term_is_its_name_without_lower_case_parts() -> None:
    question = "How does Megatron-LM treat layer norms in BERT-like and GPT-3-based models?"
    assert key_terms(question) == ["Megatron-LM", "BERT", "GPT-3"]
    # What is left must still be a key term: "130" alone is a bare count.
    assert key_terms("Why train a 130-billion-parameter model?") == ["130-billion-parameter"]
    assert missing_terms(key_terms("BERT-like models"), ["BERT-style transformer models"]) == []


def _paper(mentions: int, chunks: int = 20, term: str = "GLM-130B") -> list[str]:
    """A document of `chunks` children, the first `mentions` of which name `term`."""
    return [
        f"We compare against {term} as a baseline." if i < mentions else f"Red teaming step {i}."
        for i in range(chunks)
    ]


def _counts(counts: dict[str, int]) -> Callable[[str], int]:
    return lambda term: counts[term]


def _passing(
    question: str,
    documents: dict[str, list[str]],
    names: list[str],
    frequency: Callable[[str], int],
    share: float,
) -> list[str]:
    return passing_mentions(question, documents, documents.__getitem__, names, frequency, share)


def _unread(source: str) -> list[str]:
    raise AssertionError(f"{source} was read")


def test_a_subject_held_in_few_chunks_of_the_cited_documents_is_a_passing_mention() -> None:
    question = "What are the main components of GLM-130B's pre-training objective?"
    frequency = _counts({"GLM-130B": 1})
    red_teaming = {"red_teaming.pdf": _paper(1)}
    names = ["Red Teaming Language Models red_teaming.pdf"]
    assert _passing(question, red_teaming, names, frequency, 0.1) == ["GLM-130B"]
    # held in a tenth of the document's children it is what the document is about
    assert _passing(question, {"r.pdf": _paper(2)}, names, frequency, 0.1) == []
    # one cited document about it is enough; so is its title; 0 turns the check off
    both = {**red_teaming, "glm.pdf": _paper(5)}
    assert _passing(question, both, names, frequency, 0.1) == []
    titled = ["GLM-130B: An Open Bilingual Pre-trained Model (page 3) glm.pdf"]
    assert _passing(question, red_teaming, titled, frequency, 0.1) == []
    unread = passing_mentions(question, ["glm.pdf"], _unread, titled, frequency, 0.1)
    assert unread == []  # a title settles it: no document is read
    assert _passing(question, red_teaming, names, frequency, 0.0) == []
    assert _passing(question, {}, names, frequency, 0.1) == []


def test_the_subject_is_the_rarest_name_not_a_figure_or_a_common_word() -> None:
    question = "What does GLM-130B offer the open-source AI community in 2022?"
    texts = [f"AI safety {i}." for i in range(6)] + _paper(1, chunks=14)  # AI in 30 %
    frequency = _counts({"GLM-130B": 1, "AI": 90})
    assert _passing(question, {"r.pdf": texts}, ["r.pdf"], frequency, 0.1) == ["GLM-130B"]
    # a question whose key terms are figures and dates names no subject
    assert _passing("What changed in 2022 at 4.5%?", {"r.pdf": texts}, [], frequency, 0.1) == []


class _Vocabulary:
    documents = 100

    def document_frequencies(self, stems: list[str]) -> dict[str, int]:
        return {s: {"glm": 3, "130b": 1, "gpt": 40}.get(s, 0) for s in stems}


def test_a_terms_frequency_is_that_of_its_rarest_indexed_word() -> None:
    frequency = term_frequency(_Vocabulary())
    assert frequency("GLM-130B") == 1
    assert frequency("GPT-3") == 40  # "3" is not indexed: one character
    assert frequency("A") == 100  # nothing indexed: as common as can be
