import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag_app.cli import _documents, main
from rag_app.config import Settings
from rag_app.feedback import Rating

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


def test_ask_lists_the_passages_read_when_the_reply_is_withheld(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag_app.types import Answer, Passage
    from tests.fakes import withheld_answer

    withheld = withheld_answer(
        Passage(n=1, text="Closed on Mondays.", source="/d/shed.md", title="Shed")
    )

    class Chain:
        def stream(self, question: object) -> list[Answer]:
            return [withheld]

    monkeypatch.setattr("rag_app.chain.rag.build_chain", lambda settings: Chain())
    assert main(["ask", "When is the shed closed?"]) == 0
    out = capsys.readouterr().out
    assert "The reply was not shown: it restated the question" in out
    assert "Passages it read (the answer may be in them):\n[1] Shed — /d/shed.md" in out
    assert "Sources:" not in out  # read, not cited


@pytest.mark.integration
def test_ask_json_end_to_end_with_the_tiny_llm(docs_dir: Path, rag_home: Path) -> None:
    import os

    env = {**os.environ, "RAG_HOME": str(rag_home), "RAG_LLM_MODEL": "smollm2-135m-instruct"}
    assert run_cli("ingest", str(docs_dir), env=env).returncode == 0
    done = run_cli("ask", "When is the tool shed closed?", "--json", env=env)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    keys = {"answer", "citations", "abstained", "withheld", "quoted", "not_covered", "read"}
    keys |= {"sentences"}
    keys |= {"conflicts", "timings", "usage", "draws"}
    assert set(answer) == keys
    assert 1 <= answer["draws"] <= 3  # the first reply and at most `redraws` (2) more
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


def users(*argv: str, stdin: str | None = None) -> int:
    """`rag users ...`, with `stdin` piped in when given."""
    import io

    if stdin is None:
        return main(["users", *argv])
    real = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return main(["users", *argv])
    finally:
        sys.stdin = real


def test_users_add_list_remove_with_piped_passwords(
    rag_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag_app.users import Role, User, UserStore

    assert users("list") == 0
    assert "no users in" in capsys.readouterr().out
    assert users("add", "alice", "--role", "editor", stdin="s3cret pass\n") == 0
    assert users("add", "bob", stdin="other\n") == 0
    assert "bob (reader) saved in" in capsys.readouterr().out
    store = UserStore(rag_home / "users.json")
    assert store.verify("alice", "s3cret pass") == User("alice", Role.EDITOR)  # no newline kept
    assert users("list") == 0
    listed = capsys.readouterr().out
    assert listed == "alice\teditor\nbob\treader\n"
    assert users("add", "bob", stdin="again\n") == 1
    assert "rag users add bob --replace" in capsys.readouterr().err
    assert users("add", "bob", "--role", "editor", "--replace", stdin="again\n") == 0
    assert store.verify("bob", "again") == User("bob", Role.EDITOR)
    assert users("remove", "alice") == 0
    assert users("remove", "alice") == 1
    assert "user 'alice': no such user in" in capsys.readouterr().err
    assert [u.name for u in store.users()] == ["bob"]


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["add", "no spaces"], "pw\n", "user name 'no spaces': use 1 to 64 letters"),
        (["add", "alice"], "\n", "password: it is empty"),
        (["add", "alice"], "", "password: it is empty"),
    ],
)
def test_users_add_refuses_bad_input_in_one_line(
    argv: list[str], stdin: str, message: str, rag_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert users(*argv, stdin=stdin) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (rag_home / "users.json").exists()


def test_users_add_at_a_terminal_asks_twice(
    monkeypatch: pytest.MonkeyPatch, rag_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import getpass

    from rag_app.users import UserStore

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    typed = iter(["first", "frist", "same", "same"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(typed))
    assert users("add", "alice") == 1
    assert "password: the two entries differ; nothing was changed" in capsys.readouterr().err
    assert not (rag_home / "users.json").exists()
    assert users("add", "alice") == 0
    assert UserStore(rag_home / "users.json").verify("alice", "same") is not None


def test_users_audit_prints_the_log(rag_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rag_app.audit import record

    record(rag_home / "audit.jsonl", "alice", "upload", "default", ["bees.md: ingested"])
    assert users("audit") == 0
    assert capsys.readouterr().out.endswith("  alice  upload  default: bees.md: ingested\n")


def test_serve_refuses_a_shared_address_without_users(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve", "--host", "0.0.0.0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rag: error: --host 0.0.0.0: refusing to share the page without sign-in")
    assert "rag users add NAME --role editor" in err and "--no-auth" in err
    assert err.count("\n") == 1


def test_feedback_export_writes_upvotes_as_labels_and_list_shows_downvotes(
    ingested: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag_app.feedback import CitedChunk, ShownAnswer, record
    from rag_app.tuning.data import load_labelled

    out = tmp_path / "labels.jsonl"
    assert main(["feedback", "export", "--out", str(out)]) == 1
    assert "'default': 0 up, 0 down: no upvoted answer" in capsys.readouterr().err
    documents = sorted(_documents(ingested))
    garden = next(d for d in documents if d.endswith("garden.md"))

    def rate(id: str, question: str, rating: Rating, note: str, *cited: str) -> None:
        chunks = [
            CitedChunk(n=n, chunk_id=f"c{n}", source=s, section=None, page=None, text="t")
            for n, s in enumerate(cited, start=1)
        ]
        shown = ShownAnswer(
            id=id,
            collection="default",
            question=question,
            asked=question,
            answer="An answer [1].",
            cited=chunks,
        )
        record(ingested.feedback_file, shown, "bob", rating, note)

    rate("a1", "When do I water the tomatoes?", "up", "", garden)
    rate("a2", "When is the shed closed?", "down", "It is Mondays.", garden)
    rate("a3", "Anything?", "up", "")
    assert main(["feedback", "export", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "'default': 2 up, 1 down (1 upvoted cite no document it holds now)" in said
    assert "1 labelled question(s) written" in said and "rag feedback list" in said
    [label] = load_labelled(out, documents)
    assert label.question == "When do I water the tomatoes?" and label.relevant == {garden}
    assert main(["feedback", "list"]) == 0
    listed = capsys.readouterr().out
    assert "When is the shed closed?\n  note: It is Mondays." in listed
    assert "tomatoes" not in listed
