"""`rag`: a thin command-line wrapper over the Python API.

Only the standard library is imported at start-up; each command imports what it needs, so
`rag --help` never loads torch.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rag_app  # noqa: F401  (closes network paths before any library loads)
from rag_app.errors import UserError

if TYPE_CHECKING:
    from rag_app.types import Passage


class CliError(UserError):
    """A user-facing failure: printed as one line, exit code 1."""


def _settings(args: argparse.Namespace) -> Any:
    from rag_app.config import Settings

    overrides = {
        name: getattr(args, name)
        for name in ("collection", "include", "exclude")
        if getattr(args, name, None)
    }
    return Settings(**overrides)


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.pipeline import Ingestor

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise CliError(f"no such file or folder: {', '.join(missing)}")
    with Ingestor(_settings(args)) as ingestor:
        report = ingestor.run(args.paths, prune=not args.no_prune, progress=sys.stderr.isatty())
    for warning in report.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    for failure in report.failures():
        print(f"failed: {failure}", file=sys.stderr)
    print(report.summary())
    if report.changed():
        _calibrate(args)
    return 0 if report.ok else 1


def cmd_calibrate(args: argparse.Namespace) -> int:
    return 0 if _calibrate(args) else 1


def _calibrate(args: argparse.Namespace) -> bool:
    from rag_app.tuning.abstention import calibrate_collection
    from rag_app.tuning.questions import read_question_texts

    questions = getattr(args, "questions", None)
    own = read_question_texts(_existing(questions, "questions file")) if questions else None
    calibration = calibrate_collection(_settings(args), own)
    if calibration is None:
        print("gate not calibrated: the collection is empty", file=sys.stderr)
        return False
    print(f"gate calibrated: {calibration.summary()}")
    return True


def _sources_lines(passages: Iterable[Passage]) -> list[str]:
    return [f"[{c.n}] {c.heading} — {c.source}" for c in passages]


def cmd_ask(args: argparse.Namespace) -> int:
    from rag_app.chain.rag import build_chain

    chain = build_chain(_settings(args))
    filters = {
        key: value
        for key, value in (
            ("source", args.source),
            ("section", args.section),
            ("doc_type", args.type),
        )
        if value
    }
    question = {"question": args.question, "filters": filters}
    if args.json:
        print(json.dumps(chain.invoke(question).to_json(), ensure_ascii=False, indent=2))
        return 0
    live = sys.stdout.isatty()
    streamed = ""
    final = None
    for final in chain.stream(question):
        if not final.complete and live:
            print(final.delta, end="", flush=True)
            streamed += final.delta
    assert final is not None
    if not live:
        print(final.text)
    elif final.text != streamed:  # citation checking or abstention changed the text
        print(f"\n\nChecked answer: {final.text}")
    else:
        print()
    if final.withheld:
        print(f"(The reply was not shown: {final.withheld}.)")
        if final.contexts:
            print("\nPassages it read (the answer may be in them):")
            print("\n".join(_sources_lines(final.contexts)))
    if final.quoted:
        print(f"(Quoted from a cited document: the model's reply was withheld, {final.quoted}.)")
    flagged = [check for check in final.sentences if check.verdict != "supported"]
    if flagged:
        print("\nNot supported by the passages it cites (check it):")
        print("\n".join(f"  - {check.text} ({check.verdict})" for check in flagged))
    if final.citations:
        print("\nSources:")
        print("\n".join(_sources_lines(final.citations)))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from rag_app.ui import serve

    serve(_settings(args), host=args.host, port=args.port, no_auth=args.no_auth)
    return 0


def _user_store() -> Any:
    from rag_app.config import Settings
    from rag_app.users import UserStore

    return UserStore(Settings().users_file)


def _read_password(name: str) -> str:
    """One line from standard input when it is a pipe or a file (scripts); asked twice,
    unechoed, at a terminal, so a typo does not become the password."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    import getpass

    password = getpass.getpass(f"Password for {name}: ")
    if getpass.getpass("Again: ") != password:
        raise CliError("password: the two entries differ; nothing was changed")
    return password


def cmd_users_add(args: argparse.Namespace) -> int:
    from rag_app.users import Role, check_name

    store = _user_store()
    check_name(args.name)  # before asking for a password it would refuse
    user = store.add(args.name, _read_password(args.name), Role(args.role), args.replace)
    print(f"{user.name} ({user.role}) saved in {store.path}")
    return 0


def cmd_users_remove(args: argparse.Namespace) -> int:
    store = _user_store()
    store.remove(args.name)
    print(f"{args.name} removed from {store.path}")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    store = _user_store()
    users = store.users()
    if not users:
        print(f"no users in {store.path}: the chat page serves loopback only, without sign-in")
    for user in users:
        print(f"{user.name}\t{user.role}")
    return 0


def cmd_users_audit(args: argparse.Namespace) -> int:
    from rag_app.audit import entries
    from rag_app.config import Settings

    for entry in entries(Settings().audit_log):
        print(entry.describe())
    return 0


def _documents(settings: Any) -> set[str]:
    """The sources of the collection's documents; none when nothing was ingested."""
    from rag_app.store.state import CollectionState

    path = settings.collection_dir / "state.sqlite"
    if not path.exists():
        return set()
    state = CollectionState(path)
    try:
        return set(state.documents())
    finally:
        state.close()


def cmd_feedback_export(args: argparse.Namespace) -> int:
    from rag_app.feedback import labelled_questions, ratings, tally
    from rag_app.files import write_jsonl

    settings = _settings(args)
    rated = ratings(settings.feedback_file)
    labels = labelled_questions(rated, _documents(settings))
    counted = f"collection {settings.collection!r}: {tally(rated)}"
    if labels.unlabelled:
        counted += f" ({labels.unlabelled} upvoted cite no document it holds now)"
    if not labels.questions:
        raise CliError(f"{counted}: no upvoted answer to label a question with; nothing written")
    write_jsonl(Path(args.out), labels.questions)
    print(f"{counted}; {len(labels.questions)} labelled question(s) written to {args.out}")
    print("Downvotes are no labels: `rag feedback list` shows them, with their notes.")
    return 0


def cmd_feedback_list(args: argparse.Namespace) -> int:
    from rag_app.feedback import ratings, tally

    settings = _settings(args)
    rated = ratings(settings.feedback_file)
    print(f"collection {settings.collection!r}: {tally(rated)}")
    for feedback in rated:
        if args.rating in ("all", feedback.rating):
            print(f"\n{feedback.describe()}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from rag_app.retrieval.rerank import reranker_in_use
    from rag_app.store import CollectionStore

    settings = _settings(args)
    with CollectionStore(settings) as store:
        stats = store.state.stats()
        status = {
            "collection": settings.collection,
            "documents": stats.documents,
            "chunks": stats.chunks,
            "parents": stats.parents,
            "duplicates": stats.duplicates,
            "store_bytes": store.store_size_bytes(),
            "last_ingest": stats.last_ingest,
            "embedding_model": _embedder_in_use(store),
            "reranker": reranker_in_use(settings),
            "gate": _gate_in_use(store, settings),
        }
    if args.json:
        print(json.dumps(status))
        return 0
    from datetime import datetime

    last = status["last_ingest"]
    status["last_ingest"] = (
        datetime.fromtimestamp(last).isoformat(" ", "seconds") if last else "never"
    )
    status["store_bytes"] = f"{status['store_bytes'] / 1e6:.1f} MB"
    for key, value in status.items():
        print(f"{key:12} {value}")
    return 0


def _gate_in_use(store: Any, settings: Any) -> str:
    from rag_app.retrieval.pipeline import GateThresholds
    from rag_app.tuning.abstention import stored_calibration

    calibration = stored_calibration(store)
    if calibration is None:
        configured = GateThresholds.configured(settings).describe()
        return f"{configured} (configured; `rag calibrate` fits the collection)"
    stale = calibration.generation != store.state.generation
    note = " (the collection changed since: `rag calibrate`)" if stale else ""
    return f"{calibration.summary()}, {calibration.calibrated_at}{note}"


def _embedder_in_use(store: Any) -> str:
    tuned = store.tuned_embedder
    return f"{tuned.model} (tuned from {tuned.base})" if tuned else str(store.embedding_model)


def cmd_config(args: argparse.Namespace) -> int:
    """The effective settings as a TOML file, one table per section: pasted into `rag.toml`
    it gives the same configuration (unset values are commented out, TOML has no null)."""
    from rag_app.config import SECTIONS, config_file

    settings = _settings(args)
    source = config_file()
    print(f"# effective configuration (TOML file: {source or 'none'})")
    for table, kind in SECTIONS.items():
        print(f"\n[{table}]")
        for name in kind.model_fields:
            value = getattr(settings, name)
            if name.endswith("api_key") and value:
                value = "***"
            if value is None:
                print(f"# {name} = (unset)")
            else:
                print(f"{name} = {json.dumps(str(value) if isinstance(value, Path) else value)}")
    return 0


def cmd_eval_retrieval(args: argparse.Namespace) -> int:
    from eval.retrieval import evaluate_retrieval

    if args.dataset and not Path(args.dataset).is_dir():
        raise CliError(f"no such dataset folder: {args.dataset}")
    report = evaluate_retrieval(
        Path(args.dataset) if args.dataset else None,
        _settings(args),
        configs=args.configs.split(",") if args.configs else None,
        split=args.split,
        tune_split=None if args.tune_split == "none" else args.tune_split,
        tune_limit=args.tune_limit,
        limit=args.limit,
        out=Path(args.out),
        progress=sys.stderr.isatty(),
        collections=args.collections.split(",") if args.collections else None,
        questions=_optional(args.questions, "questions file"),
    )
    _show(args.out)
    return 0 if report["configs"] else 1


def cmd_eval_answers(args: argparse.Namespace) -> int:
    from eval.answers import evaluate_answers

    questions = _existing(args.questions, "questions file")
    docs = _existing(args.docs, "docs folder")
    overrides: dict[str, Any] = {"collection": args.collection or f"eval-{docs.resolve().name}"}
    if args.judge:
        backends = {"local": "llamacpp", "openai-compatible": "openai", "none": "none"}
        overrides["judge_backend"] = backends[args.judge]
    from rag_app.config import Settings

    summary = evaluate_answers(
        questions,
        docs,
        Settings(**overrides),
        Path(args.out),
        limit=args.limit,
        sample=args.sample,
        seed=args.seed,
        unanswerable=args.unanswerable,
        relevancy_questions=args.relevancy_questions,
        judge_metrics=args.judge_metrics,
        fresh=args.fresh,
        progress=sys.stderr.isatty(),
    )
    print((Path(args.out) / "summary.md").read_text())
    return 0 if summary["summary"]["answerable"]["questions"] else 1


def cmd_eval_injection(args: argparse.Namespace) -> int:
    from eval.injection import evaluate_injection
    from rag_app.config import Settings

    cases = _existing(args.cases, "injection suite")
    summary = evaluate_injection(
        cases, Settings(), Path(args.out), fresh=args.fresh, progress=sys.stderr.isatty()
    )
    print((Path(args.out) / "summary.md").read_text())
    return 0 if summary["attacks_succeeded"] == 0 else 1


def cmd_eval_support(args: argparse.Namespace) -> int:
    from eval.support import evaluate_support
    from rag_app.config import Settings
    from rag_app.models.embeddings import get_embedder

    settings = Settings()
    labels = _existing(args.labels, "labels file")
    evaluate_support(
        labels,
        get_embedder(settings.embedding_model),
        Path(args.out),
        target=args.target,
        configured=settings.min_support,
    )
    print((Path(args.out) / "results.md").read_text())
    return 0


def cmd_eval_compare(args: argparse.Namespace) -> int:
    from eval.compare import compare_runs, comparison_table

    baseline = _existing(args.baseline, "run folder")
    other = _existing(args.other, "run folder")
    labels = (baseline.name, other.name) if baseline.name != other.name else ("A", "B")
    rows = compare_runs(baseline, other, seed=args.seed)
    print(f"A = {baseline}, B = {other}; B - A with its 95 % paired-bootstrap interval\n")
    print(comparison_table(rows, *labels))
    return 0


def _show(out: str) -> None:
    """Print the Markdown report an eval command wrote to its --out folder."""
    print((Path(out) / "results.md").read_text())


def _existing(path: str, what: str) -> Path:
    if not Path(path).exists():
        raise CliError(f"no such {what}: {path}")
    return Path(path)


def _optional(path: str | None, what: str) -> Path | None:
    return None if path is None else _existing(path, what)


def cmd_eval_index(args: argparse.Namespace) -> int:
    from eval.index_recall import evaluate_index

    report = evaluate_index(
        _settings(args),
        Path(args.out),
        questions=_optional(args.questions, "questions file or BEIR folder"),
        queries=args.queries,
        synthetic=args.synthetic,
        target=args.target,
        progress=sys.stderr.isatty(),
    )
    _show(args.out)
    return 0 if report["recommendation"]["setting"] else 1


def cmd_eval_health(args: argparse.Namespace) -> int:
    from eval.health import evaluate_health

    evaluate_health(
        _settings(args),
        Path(args.out),
        dataset=_optional(args.dataset, "BEIR folder"),
        split=args.split,
        hubs=args.hubs,
        progress=sys.stderr.isatty(),
    )
    _show(args.out)
    return 0


def cmd_eval_scores(args: argparse.Namespace) -> int:
    from eval.scores import evaluate_scores

    evaluate_scores(
        _existing(args.questions, "questions file"),
        _settings(args),
        Path(args.out),
        docs=_optional(args.docs, "docs folder"),
        unanswerable=args.unanswerable,
        keep=args.keep,
        progress=sys.stderr.isatty(),
    )
    _show(args.out)
    return 0


def cmd_eval_chunking(args: argparse.Namespace) -> int:
    from eval.chunking import evaluate_chunking, load_corpus

    data, note = load_corpus(
        _optional(args.dataset, "BEIR folder"),
        _optional(args.docs, "docs folder"),
        _optional(args.questions, "questions file"),
        args.split,
        args.queries,
        args.corpus_sample,
        args.seed,
        args.leave_out or (),
    )
    evaluate_chunking(
        data,
        _settings(args),
        configs=args.configs.split(",") if args.configs else None,
        out=Path(args.out),
        corpus_note=note,
        progress=sys.stderr.isatty(),
    )
    _show(args.out)
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from rag_app.models.cards import EmbedderCard
    from rag_app.tuning import Target, tune

    labels = [_existing(path, "questions file or BEIR folder") for path in args.questions]
    settings = _settings(args)
    if args.budget_minutes:
        settings = settings.updated(tune_budget_minutes=args.budget_minutes)
    targets: tuple[Target, ...] = (
        ("embedder", "reranker") if args.model == "both" else (args.model,)
    )
    cards = tune(labels, settings, args.split, targets, sys.stderr.isatty())
    for target, card in cards.items():
        trained = f"{target} for {settings.collection!r} trained in {card.wall_seconds:.0f} s"
        gain = card.validation.gain
        measured = f", {gain.describe()} questions" if gain else ""
        if isinstance(card, EmbedderCard):
            verdict = "installed, collection re-embedded" if card.installed else "not installed"
            print(
                f"{trained}; validation nDCG@10 {card.validation.base:.4f} base -> "
                f"{card.validation.tuned:.4f} tuned{measured} ({verdict})"
            )
        else:
            verdict = "installed" if card.installed else "not installed"
            print(
                f"{trained} ({card.data.pairs} pairs, {card.settings.steps} steps); "
                f"validation nDCG@10 {card.validation.fused:.4f} fused -> "
                f"{card.validated:.4f} reranked{measured} "
                f"({card.combine}, depth {card.rerank_depth}; {verdict})"
            )
        if not card.installed:
            print(
                f"  the {target} was not installed: its validation gain is not clearly above 0 "
                "(more questions narrow the interval; tune_keep_worse installs it anyway)"
            )
    return 0


def cmd_questions_generate(args: argparse.Namespace) -> int:
    from rag_app.tuning.questions import generate_questions, progress_path, read_examples

    settings = _settings(args)
    if args.llm:
        settings = settings.updated(llm_model=args.llm)
    examples = read_examples(_existing(args.examples, "examples file")) if args.examples else []
    out = Path(args.out)
    report = generate_questions(
        settings, out, args.count, args.budget_minutes, examples, sys.stderr.isatty()
    )
    print(f"{out}: {report.summary()} (every chunk's questions: {progress_path(out)})")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag", description="Grounded, cited answers over your own documents, offline."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], help: str) -> Any:
        command = sub.add_parser(name, help=help, description=help)
        command.set_defaults(handler=handler)
        return command

    ingest = add(
        "ingest",
        cmd_ingest,
        "ingest files or folders (PDF, DOCX, PPTX, XLSX, CSV, Markdown, HTML, text)",
    )
    ingest.add_argument("paths", nargs="+", metavar="PATH")
    ingest.add_argument(
        "--include", action="append", metavar="GLOB", help="only files matching (repeatable)"
    )
    ingest.add_argument(
        "--exclude", action="append", metavar="GLOB", help="leave out matching files (repeatable)"
    )
    ingest.add_argument(
        "--no-prune",
        action="store_true",
        help="keep documents that disappeared from an ingested folder (default: remove them)",
    )
    ask = add("ask", cmd_ask, "answer a question from the ingested documents")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument("--source", metavar="GLOB", help="only documents whose path matches")
    ask.add_argument("--section", help="only sections under this heading path")
    ask.add_argument(
        "--type",
        choices=["markdown", "html", "pdf", "docx", "pptx", "xlsx", "csv", "text"],
        help="document type",
    )
    serve = add("serve", cmd_serve, "open the chat page")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7860)
    serve.add_argument(
        "--no-auth",
        action="store_true",
        help="serve without sign-in even on a shared address: anyone who reaches the port "
        "may read, add and delete documents (default: a shared address needs `rag users add`)",
    )
    status = add("status", cmd_status, "documents, chunks and store size")
    status.add_argument("--json", action="store_true")
    add("config", cmd_config, "print the effective configuration")
    calibrate = add(
        "calibrate",
        cmd_calibrate,
        "fit the confidence gate to the collection (rag ingest does it after a change)",
    )
    calibrate.add_argument(
        "--questions",
        metavar="FILE",
        help="questions about the collection (e.g. from `rag questions generate`) to measure "
        "the gate on, and to swap foreign names into (default: spans of its own passages)",
    )
    tune = add(
        "tune", cmd_tune, "adapt the bi-encoder and train a reranker from labelled questions"
    )
    tune.add_argument(
        "--questions",
        required=True,
        action="append",
        metavar="FILE",
        help='JSONL of {"question", "sources": [...]} (labelled, or from `rag questions '
        "generate`), or a BEIR folder (queries + qrels); repeat to mix sets",
    )
    tune.add_argument("--split", default="train", help="qrels split of a BEIR folder")
    tune.add_argument("--budget-minutes", type=float, metavar="N", help="time cap per model")
    tune.add_argument(
        "--model",
        choices=("embedder", "reranker", "both"),
        default="both",
        help="what to tune (default both: the bi-encoder first, then the reranker)",
    )
    questions = sub.add_parser(
        "questions",
        help="question sets made from the collection's own documents",
        description="Question sets for `rag tune`, `rag calibrate` and `rag eval answers`.",
    )
    question_commands = questions.add_subparsers(dest="what", required=True, metavar="WHAT")
    generate = question_commands.add_parser(
        "generate",
        help="write questions from sampled chunks with the configured LLM, keep the good ones",
        description="Ask the LLM for questions about chunks sampled across documents and "
        "sections; keep those hybrid search leads back to their chunk. Resumable: run it again "
        "with the same --out to go on.",
    )
    generate.set_defaults(handler=cmd_questions_generate)
    generate.add_argument("--out", required=True, metavar="FILE", help="question set (JSONL)")
    generate.add_argument(
        "--count", type=int, default=200, metavar="N", help="questions to keep (default 200)"
    )
    generate.add_argument("--budget-minutes", type=float, metavar="N", help="time cap")
    generate.add_argument(
        "--examples",
        metavar="FILE",
        help="a few of your own questions (text lines or JSONL) to set the style",
    )
    generate.add_argument("--llm", metavar="NAME", help="LLM to write with (default llm_model)")
    users = sub.add_parser(
        "users",
        help="who may sign in to the chat page, and what they changed",
        description="Users of the chat page: readers ask questions, editors also upload, "
        "delete and tune. A password is read from standard input (one line) when it is not a "
        "terminal, else asked for twice.",
    )
    user_commands = users.add_subparsers(dest="what", required=True, metavar="WHAT")
    add_user = user_commands.add_parser(
        "add", help="add a user (or, with --replace, set a new password and role)"
    )
    add_user.set_defaults(handler=cmd_users_add)
    add_user.add_argument("name", metavar="NAME")
    add_user.add_argument(
        "--role", choices=("reader", "editor"), default="reader", help="default reader"
    )
    add_user.add_argument(
        "--replace", action="store_true", help="the user exists: set a new password and role"
    )
    remove_user = user_commands.add_parser("remove", help="remove a user")
    remove_user.set_defaults(handler=cmd_users_remove)
    remove_user.add_argument("name", metavar="NAME")
    user_commands.add_parser("list", help="names and roles").set_defaults(handler=cmd_users_list)
    user_commands.add_parser(
        "audit", help="every upload, delete and tuning started on the chat page, oldest first"
    ).set_defaults(handler=cmd_users_audit)
    feedback = sub.add_parser(
        "feedback",
        help="thumbs up and down given on the chat page: labels for tuning, answers to review",
        description="Ratings of a collection's answers on the chat page. An upvoted answer's "
        "cited documents label its question for `rag tune`; a downvote is no label, and is "
        "listed for review with its note.",
    )
    feedback_commands = feedback.add_subparsers(dest="what", required=True, metavar="WHAT")
    export = feedback_commands.add_parser(
        "export",
        help="the upvoted questions as a labelled set for `rag tune --questions`",
        description="One line per upvoted question (the same question upvoted twice is one, "
        "its sources merged): the cited documents the collection still holds. Prints how many "
        "answers were rated up and down.",
    )
    export.set_defaults(handler=cmd_feedback_export)
    export.add_argument("--out", required=True, metavar="FILE", help="question set (JSONL)")
    listing = feedback_commands.add_parser(
        "list", help="the downvoted answers with their notes (--rating up or all for others)"
    )
    listing.set_defaults(handler=cmd_feedback_list)
    listing.add_argument(
        "--rating", choices=("down", "up", "all"), default="down", help="default down"
    )
    evaluation = sub.add_parser(
        "eval", help="measure retrieval and answer quality", description="Evaluation reports."
    )
    evals = evaluation.add_subparsers(dest="what", required=True, metavar="WHAT")
    retrieval = evals.add_parser(
        "retrieval",
        help="compare retrieval configs on a BEIR-format folder or your own questions",
        description="Ingest a BEIR corpus into its own collection, tune fusion on one split, "
        "report nDCG/Recall/MRR and latency per config on another. Or, with --questions, "
        "measure an ingested collection on questions naming their source documents.",
    )
    retrieval.set_defaults(handler=cmd_eval_retrieval)
    judged_by = retrieval.add_mutually_exclusive_group(required=True)
    judged_by.add_argument("--dataset", metavar="DIR", help="BEIR-format folder")
    judged_by.add_argument(
        "--questions",
        metavar="FILE",
        help="JSONL of {question, sources}, e.g. from `rag questions generate`: the "
        "collection is measured as ingested, fusion at its configured values",
    )
    retrieval.add_argument(
        "--configs",
        metavar="A,B",
        help="comma-separated: bm25, dense, hybrid-rrf, hybrid-alpha, hybrid-rrf+rerank, "
        "hybrid-alpha+rerank (default: these six); +hyde or +multi after the fusion name "
        "(dense+hyde, hybrid-alpha+multi+rerank) adds the LLM's query expansion, each "
        "query's kept in --out so a rerun resumes",
    )
    retrieval.add_argument("--split", default="test", help="qrels split to report (default test)")
    retrieval.add_argument(
        "--tune-split",
        default="train",
        help="qrels split to tune fusion and rerank depth on, or 'none' (default train)",
    )
    retrieval.add_argument("--tune-limit", type=int, metavar="N", help="tune on N queries only")
    retrieval.add_argument(
        "--collections",
        metavar="A,B",
        help="compare these collections of the corpus side by side, e.g. before and after "
        "`rag tune` (default: one collection, beir-NAME; with --questions, the configured "
        "one)",
    )
    retrieval.add_argument("--limit", type=int, metavar="N", help="report on N queries only")
    retrieval.add_argument("--out", default="eval-results/retrieval", metavar="DIR")
    answers = evals.add_parser(
        "answers",
        help="answer a question set with the chain and score it (RAGAS + citation checks)",
        description="Run the chain on each question, then score faithfulness, answer "
        "relevancy, context precision/recall, citation validity and support, abstention and "
        "latency. Resumable: re-running skips questions already scored.",
    )
    answers.set_defaults(handler=cmd_eval_answers)
    answers.add_argument(
        "--questions", required=True, metavar="FILE", help="JSON/JSONL question file"
    )
    answers.add_argument("--docs", required=True, metavar="DIR", help="documents to answer from")
    answers.add_argument(
        "--judge",
        choices=["local", "openai-compatible", "none"],
        help="judge LLM: the local model, the judge_* endpoint settings, or none for the "
        "judge-free metrics only (default: config)",
    )
    answers.add_argument(
        "--judge-metrics",
        choices=["all", "citations"],
        default="all",
        help="what the judge scores: RAGAS and citation support (all), or citation support "
        "alone, minutes faster per answer on a CPU",
    )
    answers.add_argument("--out", default="eval-results/answers", metavar="DIR")
    answers.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    answers.add_argument(
        "--sample", type=int, metavar="N", help="N answerable questions drawn at random"
    )
    answers.add_argument("--seed", type=int, default=0, help="seed for --sample (default 0)")
    answers.add_argument(
        "--unanswerable",
        metavar="REGEX",
        help="questions matching this are ones the documents cannot answer (e.g. GLM)",
    )
    answers.add_argument(
        "--relevancy-questions",
        type=int,
        default=3,
        metavar="N",
        help="questions the judge generates per answer for answer relevancy (RAGAS strictness)",
    )
    answers.add_argument("--fresh", action="store_true", help="discard earlier results in --out")
    answers.add_argument("--collection", help="collection for the docs (default eval-DIRNAME)")
    compare = evals.add_parser(
        "compare",
        help="paired intervals between two `eval answers` runs over the same questions",
        description="For each metric both runs measured, the mean over shared questions, the "
        "difference and its 95 % paired-bootstrap interval: whether the runs differ by more "
        "than the luck of which questions were asked.",
    )
    compare.set_defaults(handler=cmd_eval_compare)
    compare.add_argument("baseline", metavar="A", help="an `eval answers --out` folder")
    compare.add_argument("other", metavar="B", help="the folder compared with A")
    compare.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    injection = evals.add_parser(
        "injection",
        help="documents written to subvert the assistant: attacks that worked, answers right",
        description="Each case ingests a legitimate document and an attacker's document into "
        "a collection of its own and asks the legitimate question. Reports the attacks that "
        "worked and the legitimate answers still right; exits 1 when any attack worked. "
        "Resumable: re-running skips the cases already answered.",
    )
    injection.set_defaults(handler=cmd_eval_injection)
    injection.add_argument(
        "--cases",
        default="eval/data/injection.jsonl",
        metavar="FILE",
        help="the suite, one JSON case per line (default eval/data/injection.jsonl)",
    )
    injection.add_argument("--out", default="eval-results/injection", metavar="DIR")
    injection.add_argument("--fresh", action="store_true", help="discard earlier results in --out")
    support = evals.add_parser(
        "support",
        help="the support check against hand-labelled statements: calibrate min_support",
        description="Scores each labelled answer sentence against the passages it cited, "
        "calibrates min_support on the dev half for a target precision and reports precision "
        "and recall on the test half.",
    )
    support.set_defaults(handler=cmd_eval_support)
    support.add_argument(
        "--labels",
        default="eval/data/support-labels.jsonl",
        metavar="FILE",
        help="labelled statements, one JSON per line (default eval/data/support-labels.jsonl)",
    )
    support.add_argument(
        "--target",
        type=float,
        default=0.9,
        help="precision the supported verdicts must reach on dev (default 0.9)",
    )
    support.add_argument("--out", default="eval-results/support", metavar="DIR")
    index = evals.add_parser(
        "index",
        help="HNSW recall@10 and latency against exact search, per M and ef_search",
        description="Build scratch HNSW indexes from the collection's vectors (and from "
        "synthetic vectors around them, at a larger size), compare their top-10 with exact "
        "kNN, and recommend the fastest setting that keeps recall at the target.",
    )
    index.set_defaults(handler=cmd_eval_index)
    index.add_argument(
        "--questions",
        metavar="PATH",
        help="questions to query with (JSON/JSONL or BEIR folder); default: chunk vectors",
    )
    index.add_argument("--queries", type=int, default=200, metavar="N", help="queries used")
    index.add_argument(
        "--synthetic",
        type=int,
        default=50_000,
        metavar="N",
        help="also measure at N vectors (0: the collection's size only)",
    )
    index.add_argument("--target", type=float, default=0.99, help="recall@10 to keep")
    index.add_argument("--out", default="eval-results/index", metavar="DIR")
    health = evals.add_parser(
        "health",
        help="anisotropy, hubness, near-duplicates, a 2-D map and a truncation check",
        description="Embedding-space health of a collection, its hub chunks by name, and "
        "nDCG@10 / memory with the vectors truncated to fewer dimensions (with --dataset).",
    )
    health.set_defaults(handler=cmd_eval_health)
    health.add_argument(
        "--dataset", metavar="DIR", help="BEIR folder: use (ingest) its collection and qrels"
    )
    health.add_argument("--split", default="test", help="qrels split for the truncation check")
    health.add_argument("--hubs", type=int, default=20, metavar="N", help="hub chunks listed")
    health.add_argument("--out", default="eval-results/health", metavar="DIR")
    scores = evals.add_parser(
        "scores",
        help="score histograms, answerable vs unanswerable, and the abstention threshold",
        description="Retrieval-only: dense (and cross-encoder) scores of answerable and "
        "unanswerable questions, and the min_dense_similarity the data supports.",
    )
    scores.set_defaults(handler=cmd_eval_scores)
    scores.add_argument("--questions", required=True, metavar="FILE", help="JSON/JSONL questions")
    scores.add_argument("--docs", metavar="DIR", help="ingest these into the collection first")
    scores.add_argument(
        "--unanswerable", metavar="REGEX", help="questions matching this are unanswerable"
    )
    scores.add_argument(
        "--keep",
        type=float,
        default=0.95,
        help="share of answerable questions the threshold must let through (default 0.95)",
    )
    scores.add_argument("--out", default="eval-results/scores", metavar="DIR")
    chunking = evals.add_parser(
        "chunking",
        help="chunk sizes, overlap, flat vs parent-child, structured vs recursive vs semantic",
        description="Ingest one corpus once per chunking config (each into its own "
        "collection) and compare dense and hybrid retrieval metrics.",
    )
    chunking.set_defaults(handler=cmd_eval_chunking)
    chunking.add_argument("--dataset", metavar="DIR", help="BEIR-format folder")
    chunking.add_argument("--docs", metavar="DIR", help="a Markdown folder (with --questions)")
    chunking.add_argument(
        "--questions",
        metavar="FILE",
        help='with --docs: JSONL of {"question", "sources": [paths relative to DIR]}',
    )
    chunking.add_argument("--split", default="test", help="qrels split of --dataset")
    chunking.add_argument("--queries", type=int, metavar="N", help="N random queries only")
    chunking.add_argument(
        "--corpus-sample",
        type=int,
        metavar="N",
        help="documents relevant to the queries plus N random others (default: whole corpus)",
    )
    chunking.add_argument("--seed", type=int, default=0, help="seed for the samples")
    chunking.add_argument(
        "--exclude",
        action="append",
        dest="leave_out",
        metavar="GLOB",
        help="with --docs: leave out files whose relative path matches (repeatable)",
    )
    chunking.add_argument(
        "--configs",
        metavar="A,B",
        help="comma-separated, e.g. 128-16-structured,192-24-semantic (default: all)",
    )
    chunking.add_argument("--out", default="eval-results/chunking", metavar="DIR")
    per_collection = (ingest, ask, serve, status, calibrate, tune, generate, export, listing)
    for command in (*per_collection, index, health, scores):
        command.add_argument("--collection", help="collection name (default from config)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # one line for the user; tracebacks are for bugs
        from rag_app.errors import is_user_fixable, one_line

        if not (isinstance(err, CliError) or is_user_fixable(err)):
            raise
        print(f"rag: error: {one_line(err)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
