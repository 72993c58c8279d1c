from rag_app.chain.expand import write_expansions
from tests.fakes import RecordingLLM


def test_paraphrases_lose_their_list_marks_and_keep_their_own_figures() -> None:
    llm = RecordingLLM(
        responses=["1. 0-dimensional biomaterials\n2) PrP positivity in 2000\n- 3D\n"]
    )
    assert write_expansions(llm, "q", "multi", 3) == [
        "0-dimensional biomaterials",
        "PrP positivity in 2000",
        "3D",
    ]


def test_multi_query_keeps_at_most_count_and_hyde_one_passage() -> None:
    multi = RecordingLLM(responses=["a\nb\n\nc"])
    hyde = RecordingLLM(responses=["  The shed is closed on Mondays.\nIt opens at eight.  "])
    assert write_expansions(multi, "q", "multi", 2) == ["a", "b"]
    assert write_expansions(hyde, "when is the shed closed", "hyde") == [
        "The shed is closed on Mondays.\nIt opens at eight."
    ]
    assert "when is the shed closed" in str(hyde.prompts[0][0].content)
