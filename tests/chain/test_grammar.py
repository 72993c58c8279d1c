import pytest
from llama_cpp import LlamaGrammar

from rag_app.chain.grammar import MAX_SENTENCES, citation_grammar
from rag_app.chain.rag import build_chain
from rag_app.config import Settings
from tests.fakes import RecordingLLM


def test_the_grammar_allows_only_passage_numbers_that_exist_and_compiles_in_llama_cpp() -> None:
    grammar = citation_grammar(3, 'The documents do not "answer" this.')
    assert 'cite ::= "[" ("1" | "2" | "3") "]"' in grammar
    assert 'abstain ::= "The documents do not \\"answer\\" this."' in grammar
    assert grammar.count('(" " sentence)?') == MAX_SENTENCES - 1
    assert LlamaGrammar.from_string(grammar, verbose=False) is not None  # valid GBNF
    with pytest.raises(ValueError, match="at least one passage"):
        citation_grammar(0, "No.")


def test_the_local_backend_decodes_under_the_grammar_an_endpoint_does_not(
    ingested: Settings,
) -> None:
    question = {"question": "When do I water the tomatoes?"}
    llm = RecordingLLM(responses=["Water them before 9 am [1]."])
    answer = build_chain(ingested, llm=llm).invoke(question)
    grammar = llm.calls[-1]["grammar"]
    assert f'"{len(answer.contexts)}"' in grammar and ingested.abstain_text in grammar
    for settings in (
        ingested.updated(citation_grammar=False),
        ingested.updated(llm_backend="openai", llm_base_url="http://127.0.0.1:9/v1"),
    ):
        other = RecordingLLM(responses=["Water them before 9 am [1]."])
        build_chain(settings, llm=other).invoke(question)
        assert "grammar" not in other.calls[-1]
