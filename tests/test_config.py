from pathlib import Path

import pytest
from pydantic import ValidationError

from rag_app.config import SECTIONS, IngestSettings, RetrievalSettings, Settings


def test_defaults_are_usable(rag_home: Path) -> None:
    s = Settings()
    assert s.home == rag_home
    assert s.fusion == "alpha" and s.alpha == 0.5 and s.top_k == 5 and s.retrieve_n == 50
    assert s.chroma_dir == rag_home / "chroma"
    assert s.collection_dir == rag_home / "collections" / "default"


def test_models_dir_follows_home_unless_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAG_MODELS_DIR")
    assert Settings(home=tmp_path / "h").models_dir == tmp_path / "h" / "models"
    assert Settings(models_dir=tmp_path / "m").models_dir == tmp_path / "m"


def test_every_field_is_described() -> None:
    undocumented = [n for n, f in Settings.model_fields.items() if not f.description]
    assert undocumented == []


def test_env_overrides_toml_overrides_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "rag.toml").write_text('top_k = 3\nfusion = "alpha"\nalpha = 0.5\n')
    s = Settings()
    assert (s.top_k, s.fusion, s.alpha) == (3, "alpha", 0.5)
    monkeypatch.setenv("RAG_TOP_K", "7")
    assert Settings().top_k == 7
    assert Settings(top_k=9).top_k == 9


def test_rag_config_points_to_a_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    custom = tmp_path / "custom.toml"
    custom.write_text('collection = "notes"\n')
    monkeypatch.setenv("RAG_CONFIG", str(custom))
    assert Settings().collection == "notes"
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(FileNotFoundError, match=r"missing\.toml"):
        Settings()


def test_bad_values_name_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_FUSION", "magic")
    with pytest.raises(ValidationError, match="fusion"):
        Settings()
    monkeypatch.delenv("RAG_FUSION")
    with pytest.raises(ValidationError, match="child_overlap_tokens"):
        Settings(child_chunk_tokens=64, child_overlap_tokens=64)
    with pytest.raises(ValidationError, match=r"unknown_key"):
        Settings(unknown_key=1)  # type: ignore[call-arg]


def test_toml_keys_may_sit_in_their_sections_table(tmp_path: Path) -> None:
    (tmp_path / "rag.toml").write_text(
        'collection = "notes"\n[retrieval]\ntop_k = 3\nfusion = "rrf"\n[models]\nllm_seed = 7\n'
    )
    s = Settings()
    assert (s.collection, s.top_k, s.fusion, s.llm_seed) == ("notes", 3, "rrf", 7)
    assert s.section(RetrievalSettings).top_k == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[retrieval]\nllm_seed = 7\n",
            r"rag\.toml: \[retrieval\] llm_seed: it belongs in \[models\]",
        ),
        ("[judge]\ntop_kk = 7\n", r"\[judge\] top_kk: no setting has that name"),
        ("top_k = 2\n[retrieval]\ntop_k = 3\n", r"top_k is set twice"),
    ],
)
def test_a_key_in_the_wrong_table_names_the_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "rag.toml").write_text(text)
    with pytest.raises(ValueError, match=message):
        Settings()


def test_every_field_is_in_exactly_one_section() -> None:
    owners = [name for kind in SECTIONS.values() for name in kind.model_fields]
    assert sorted(owners) == sorted(Settings.model_fields)


def test_a_section_is_checked_like_the_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAG_MIN_SUPPORT")  # conftest's, for the hashing encoder
    with pytest.raises(ValidationError, match="child_overlap_tokens"):
        IngestSettings(child_chunk_tokens=64, child_overlap_tokens=64)
    assert Settings(top_k=2).section(RetrievalSettings) == RetrievalSettings(top_k=2)


def test_rag_config_prints_a_toml_file_that_gives_the_same_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag_app.cli import main

    monkeypatch.setenv("RAG_TOP_K", "3")
    monkeypatch.setenv("RAG_RERANK_DEPTH", "12")
    assert main(["config"]) == 0
    printed = capsys.readouterr().out
    assert "[retrieval]" in printed and "top_k = 3" in printed
    assert "# reranker_model = (unset)" in printed
    (tmp_path / "printed.toml").write_text(printed)
    monkeypatch.delenv("RAG_TOP_K")
    monkeypatch.delenv("RAG_RERANK_DEPTH")
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path / "printed.toml"))
    assert Settings() == Settings(top_k=3, rerank_depth=12)
