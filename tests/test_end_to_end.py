"""The demo's promise on the default models: a cited answer about docs/, an honest abstention."""

from pathlib import Path

import pytest

from ingest import ingest_paths
from rag_app.chain.rag import build_chain
from rag_app.config import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.integration
def test_default_models_answer_about_the_user_guide_with_a_citation(
    rag_home: Path, no_network: list[object]
) -> None:
    settings = Settings(home=rag_home)
    report = ingest_paths([DOCS], settings)
    assert report.ok and report.count("ingested") == len(list(DOCS.glob("*.md")))
    chain = build_chain(settings)

    answer = chain.invoke({"question": "How do I use Ollama with rag_app?"})
    assert not answer.abstained, answer.text
    assert answer.citations, answer.text
    assert all(Path(c.source).parent == DOCS for c in answer.citations)
    assert "openai" in answer.text.lower() or "11434" in answer.text

    off_topic = chain.invoke({"question": "What is the capital of France?"})
    assert off_topic.abstained and off_topic.citations == []
    assert no_network == []
