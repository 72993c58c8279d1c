import re
from pathlib import Path

import numpy as np
import pytest

from rag_app.config import Settings
from rag_app.models.embeddings import get_embedder
from rag_app.models.gguf import ModelNotAvailable
from rag_app.models.llm import make_chat_model
from rag_app.models.resolve import resolve_embedder, resolve_gguf


def test_unknown_models_fail_with_the_known_names(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailable, match=r"all-MiniLM-L6-v2"):
        resolve_embedder("sentence-transformers/some-hub-model")
    with pytest.raises(ModelNotAvailable, match=re.escape("qwen2.5-coder-0.5b-instruct")):
        resolve_gguf("gpt-17", tmp_path)


def test_a_local_gguf_path_is_used_as_is(tmp_path: Path) -> None:
    model = tmp_path / "mine.gguf"
    model.write_bytes(b"GGUF")
    assert resolve_gguf(str(model), tmp_path) == model


def test_local_embedder_folder_may_declare_prefixes(tmp_path: Path) -> None:
    (tmp_path / "rag_app.json").write_text(
        '{"query_prefix": "query: ", "passage_prefix": "passage: "}'
    )
    spec = resolve_embedder(str(tmp_path))
    assert (spec.query_prefix, spec.passage_prefix) == ("query: ", "passage: ")


@pytest.mark.integration
def test_bundled_embedder_is_one_normalised_model_per_process() -> None:
    embedder = get_embedder("all-MiniLM-L6-v2")
    assert get_embedder("all-MiniLM-L6-v2") is embedder
    vectors = embedder.encode_passages(["Water the tomatoes.", "The shed is closed on Mondays."])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = embedder.encode_query("When is the shed closed?")
    assert float(vectors[1] @ query) > float(vectors[0] @ query)
    assert embedder.count_tokens("hello world") == 2


def test_openai_backend_needs_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ValueError, match="llm_base_url"):
        make_chat_model(Settings(llm_backend="openai", llm_model="llama3.2"))
    model = make_chat_model(
        Settings(llm_backend="openai", llm_model="llama3.2", llm_base_url="http://127.0.0.1:9/v1")
    )
    assert type(model).__name__ == "ChatOpenAI"
