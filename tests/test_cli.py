import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag_app.cli import main

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rag_app.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_help_does_not_import_torch_or_langchain() -> None:
    probe = (
        "import sys\nfrom rag_app.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'langchain_core', 'chromadb', 'gradio')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "ingest" in out.stdout and "ask" in out.stdout
    assert "HEAVY []" in out.stdout


def test_ingest_status_and_config(docs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status"]) == 0
    assert "(configured; `rag calibrate` fits the collection)" in capsys.readouterr().out
    assert main(["ingest", str(docs_dir)]) == 0
    out = capsys.readouterr().out
    assert "3 ingested" in out and "gate calibrated: dense >= " in out
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["documents"] == 3 and status["chunks"] > 3 and status["store_bytes"] > 0
    calibrated = out.split("gate calibrated: ")[1].strip()
    assert status["gate"].startswith(calibrated) and "changed since" not in status["gate"]
    assert main(["ingest", str(docs_dir), "--exclude", "*.txt"]) == 0
    assert "1 removed" in capsys.readouterr().out
    assert main(["config"]) == 0
    assert 'fusion = "alpha"' in capsys.readouterr().out


def test_failed_files_make_ingest_exit_1(
    docs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (docs_dir / "empty.md").write_bytes(b"")
    assert main(["ingest", str(docs_dir)]) == 1
    captured = capsys.readouterr()
    assert "empty.md: empty file" in captured.err
    assert "3 ingested" in captured.out and "1 failed" in captured.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ingest", "no/such/folder"], "no such file or folder: no/such/folder"),
        (["ask", "anything?"], "is empty: run `rag ingest PATH`"),
        (["status", "--collection", "bad name!"], "setting collection"),
    ],
)
def test_errors_are_one_line_with_exit_1(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith("rag: error:")


def test_an_internal_value_error_is_a_bug_with_its_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import rag_app.cli as cli

    def broken(args: object) -> int:
        return len(list(zip([1], [], strict=True)))  # a bug: ValueError from zip

    monkeypatch.setattr(cli, "cmd_status", broken)
    with pytest.raises(ValueError, match="zip"):
        main(["status"])
    assert "rag: error:" not in capsys.readouterr().err


def test_bad_arguments_exit_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["ask"])
    assert exit_info.value.code == 2


@pytest.mark.integration
def test_ask_json_end_to_end_with_the_tiny_llm(docs_dir: Path, rag_home: Path) -> None:
    import os

    env = {**os.environ, "RAG_HOME": str(rag_home), "RAG_LLM_MODEL": "smollm2-135m-instruct"}
    assert run_cli("ingest", str(docs_dir), env=env).returncode == 0
    done = run_cli("ask", "When is the tool shed closed?", "--json", env=env)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    keys = {"answer", "citations", "abstained", "withheld", "not_covered", "sentences"}
    keys |= {"timings", "usage"}
    assert set(answer) == keys
    for check in answer["sentences"]:  # the support check of each sentence
        assert set(check) == {"text", "citations", "support", "verdict", "missing", "recited_from"}
    assert answer["timings"]["retrieve"] > 0
    assert answer["timings"]["llm"] >= answer["timings"]["first_token"] > 0
    usage = answer["usage"]  # one fresh process: nothing cached before the first prompt
    assert usage["prompt_tokens"] > 100 and usage["cached_tokens"] < 10
    assert usage["prefill_tokens_per_s"] > 0 and usage["output_tokens"] > 0
    assert isinstance(answer["answer"], str) and answer["answer"]
    for citation in answer["citations"]:
        assert set(citation) == {"n", "source", "section", "page", "text"}
        assert Path(citation["source"]).is_file()


def test_calibrate_measures_the_gate_on_a_given_question_set(
    docs_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", str(docs_dir)]) == 0
    questions = tmp_path / "generated.jsonl"
    questions.write_text(
        '{"question": "When are the compost bins emptied?", "sources": ["garden.md"]}\n'
        '{"question": "How often is the compost pile turned?", "sources": ["garden.md"]}\n'
    )
    capsys.readouterr()
    assert main(["calibrate", "--questions", str(questions)]) == 0
    assert "of 2 own questions" in capsys.readouterr().out
    questions.write_text('{"text": "no question here"}\n')
    assert main(["calibrate", "--questions", str(questions)]) == 1
    assert "generated.jsonl:1: expected an object with a 'question'" in capsys.readouterr().err


def test_eval_retrieval_measures_the_collection_on_a_question_file(
    docs_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", str(docs_dir)]) == 0
    questions = tmp_path / "mine.jsonl"
    questions.write_text(
        '{"question": "When are the compost bins emptied?", "sources": ["garden.md"]}\n'
    )
    out = tmp_path / "report"
    args = ["eval", "retrieval", "--questions", str(questions), "--configs", "bm25"]
    assert main([*args, "--out", str(out)]) == 0
    assert "# Retrieval: mine (all, 1 queries)" in (out / "results.md").read_text()
    with pytest.raises(SystemExit):  # a dataset or a question file, not both
        main([*args, "--dataset", str(tmp_path)])
