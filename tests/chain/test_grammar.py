import ctypes
import math
from pathlib import Path

import llama_cpp
import pytest
from llama_cpp import Llama, LlamaGrammar

from rag_app.chain.grammar import MAX_SENTENCES, citation_grammar
from rag_app.chain.rag import build_chain
from rag_app.config import Settings
from rag_app.models.resolve import resolve_gguf
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
    grammar = llm.calls[0]["grammar"]  # the answer's; the responds check's call follows
    assert f'"{len(answer.contexts)}"' in grammar and ingested.abstain_text in grammar
    for settings in (
        ingested.updated(citation_grammar=False),
        ingested.updated(llm_backend="openai", llm_base_url="http://127.0.0.1:9/v1"),
    ):
        other = RecordingLLM(responses=["Water them before 9 am [1]."])
        build_chain(settings, llm=other).invoke(question)
        assert "grammar" not in other.calls[0]


def _accepts(grammar: str, text: str, vocab_model: Path) -> bool:
    """Whether llama.cpp's own grammar sampler lets a model write `text` and then stop: each of
    the text's tokens is offered alone; a token the grammar rejects gets logit -inf."""
    llama = Llama(str(vocab_model), vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llama.model)
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
    try:
        for token in [*llama.tokenize(text.encode(), add_bos=False), llama.token_eos()]:
            data = (llama_cpp.llama_token_data * 1)(llama_cpp.llama_token_data(token, 0.0, 0.0))
            candidates = llama_cpp.llama_token_data_array(data, 1, -1, False)
            llama_cpp.llama_sampler_apply(sampler, ctypes.byref(candidates))
            if math.isinf(data[0].logit):
                return False
            if token != llama.token_eos():
                llama_cpp.llama_sampler_accept(sampler, token)
        return True
    finally:
        llama_cpp.llama_sampler_free(sampler)


@pytest.fixture(scope="module")
def vocab_model(shared_models_dir: Path) -> Path:
    return resolve_gguf("smollm2-135m-instruct", shared_models_dir)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("text", "allowed"),
    [
        ("Open at 9 am [1].", True),
        ("Open at 9 am [1][2]. Closed on Mondays [2]!", True),
        # the model ends a sentence its own way: only the citation may follow the stop
        ("Open at 9 am. [1] Closed on Mondays [2].", True),
        ("Open at 9 am. Closed on Mondays [2].", False),
        ("Open at 9 am.Closed on Mondays [2].", False),  # a stop glued to a capital
        ("Version 4.5 of app.py, e.g. here [1].", True),  # stops the splitter keeps inside
        ("As Devlin et al., 2019 show (Sect.2.1) [1].", True),
        ("See Sect. 2.1 here [1].", False),  # the splitter ends a sentence before a digit
        ("Founded in 2019. 2020 was next [1].", False),  # the splitter ends a sentence there
        ("Open at 9 am [3].", False),  # no passage 3
        ("Open at 9 am.", False),
        ("No.", True),  # the abstain sentence
        ("A [1]. B [1]. C [1]. D [1]. E [1].", False),  # one sentence more than allowed
    ],
)
def test_llama_cpp_lets_the_model_write_only_cited_sentences(
    vocab_model: Path, text: str, allowed: bool
) -> None:
    assert _accepts(citation_grammar(2, "No."), text, vocab_model) is allowed
