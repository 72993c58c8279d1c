from rag_app.retrieval.coverage import key_terms, missing_terms


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
