"""The page itself: layout, events, and serving it (on loopback, or signed in: `auth`).

Handlers here only translate between Gradio's values and `Chat` / `Library`, after checking the
caller's role; the work is done there. Everything the page loads (scripts, styles, fonts) comes
from the local Gradio package.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag_app import audit
from rag_app.config import Settings, get_settings
from rag_app.errors import is_user_fixable, one_line
from rag_app.retrieval.rerank import reranker_in_use
from rag_app.ui import source_panel
from rag_app.ui.auth import Access, page_access
from rag_app.ui.chat import Chat, Choices, SearchMode
from rag_app.ui.feedback import Ratings
from rag_app.ui.library import DOCUMENT_COLUMNS, RESULT_COLUMNS, Library, TuningJob
from rag_app.ui.render import DEBUG_COLUMNS, notice_html
from rag_app.ui.safe_markdown import message_html
from rag_app.ui.scope import scope_filters
from rag_app.ui.sources import CITE_JS, CitedAnswers, clickable_citations
from rag_app.users import Role

log = logging.getLogger(__name__)

CSS = """
.rag-source { border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 6px 10px; margin-bottom: 6px; }
.rag-source summary { cursor: pointer; }
.rag-n { font-weight: 600; color: var(--color-accent); }
.rag-section, .rag-page, .rag-file { color: var(--body-text-color-subdued); font-size: 0.9em; }
.rag-passage { white-space: pre-wrap; margin-top: 6px; font-size: 0.92em; }
.rag-timings { color: var(--body-text-color-subdued); font-size: 0.8em; margin-top: 4px; }
.rag-abstained { border-left: 4px solid var(--color-accent); padding: 6px 10px; }
.rag-uncited, .rag-notice { color: var(--body-text-color-subdued); }
.rag-flagged { margin-bottom: 6px; }
#chatbot .md ul { list-style: disc; padding-left: 1.5em; }
#chatbot .md ol { list-style: decimal; padding-left: 1.5em; }
#chatbot .md code { background: var(--code-background-fill); padding: 0 3px; border-radius: 3px; }
#chatbot .md pre { background: var(--code-background-fill); padding: 8px; overflow-x: auto; }
#chatbot .md th, #chatbot .md td { border: 1px solid var(--border-color-primary);
  padding: 2px 6px; }
.rag-cite { color: var(--color-accent); font-weight: 600; cursor: pointer; padding: 0;
  background: none; border: none; text-decoration: underline dotted; }
.rag-opened blockquote { border-left: 3px solid var(--color-accent); padding-left: 8px;
  white-space: pre-wrap; font-size: 0.92em; }
.rag-note, #searching-in { color: var(--body-text-color-subdued); font-size: 0.9em; }
.rag-document { max-height: 420px; overflow-y: auto; border-top: 1px solid
  var(--border-color-primary); margin-top: 6px; padding-top: 6px; }
"""


@contextmanager
def _friendly_errors(action: str) -> Iterator[None]:
    """A library action that fails shows a message box; the server carries on."""
    try:
        yield
    except gr.Error:
        raise
    except Exception as err:
        if is_user_fixable(err):
            raise gr.Error(one_line(err)) from err
        log.exception("%s failed", action)
        raise gr.Error(f"{action} failed ({type(err).__name__}); see the server log.") from err


@dataclass
class ChatTab:
    chatbot: gr.Chatbot
    question: gr.Textbox
    send: gr.Button
    sources: gr.HTML
    mode: gr.Radio
    rerank: gr.Checkbox
    top_k: gr.Slider
    debug: gr.Checkbox
    clear: gr.ClearButton
    debug_table: gr.Dataframe
    opened: source_panel.OpenedSource
    ask_about: source_panel.AskAbout
    rating: RatingControls


@dataclass
class RatingControls:
    """The session's rateable answers, and the note that goes with the latest rating."""

    ratings: gr.State
    note_row: gr.Row
    note: gr.Textbox
    add_note: gr.Button


@dataclass
class LibraryTab:
    readers_note: gr.Markdown
    files: gr.File
    results: gr.Dataframe
    documents: gr.Dataframe
    doomed: gr.Dropdown
    remove: gr.Button
    tune: gr.Button
    tuning: gr.Markdown
    timer: gr.Timer


def _table(headers: list[str], label: str, elem_id: str, **options: Any) -> gr.Dataframe:
    """A read-only table whose long cells wrap."""
    return gr.Dataframe(
        headers=headers, label=label, elem_id=elem_id, interactive=False, wrap=True, **options
    )


def _reranker_note(settings: Settings) -> str:
    return "Cross-encoder: " + reranker_in_use(settings.updated(rerank=True))


def _chat_tab(settings: Settings) -> ChatTab:
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                label="Conversation",
                height=480,
                placeholder="Ask a question about the documents in the collection.",
                feedback_options=("Like", "Dislike"),
                # Messages arrive as HTML that links and loads nothing (safe_markdown.py);
                # the browser's own Markdown rendering would turn an answer's image into a
                # request. Its copy button is gone with it: it copies the raw value (HTML).
                render_markdown=False,
                buttons=[],
                elem_id="chatbot",
            )
            with gr.Row():
                question = gr.Textbox(
                    show_label=False,
                    placeholder="Your question, e.g. “How do I install it?”",
                    scale=5,
                    elem_id="question",
                )
                send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
            rating = _rating_controls()
        with gr.Column(scale=2):
            gr.Markdown("### Sources")
            searching_in = source_panel.searching_in()
            opened = source_panel.opened_source()
            sources = gr.HTML(
                notice_html("The passages an answer cites appear here."),
                elem_id="sources",
                js_on_load=CITE_JS,
            )
            ask_about = source_panel.ask_about(searching_in)
            with gr.Accordion("Retrieval settings", open=False, elem_id="settings"):
                mode = gr.Radio(
                    [m.value for m in SearchMode],
                    value=SearchMode.HYBRID.value,
                    label="Retrieval mode",
                    info="hybrid = embeddings + BM25 keywords, fused",
                )
                rerank = gr.Checkbox(
                    value=settings.rerank,
                    label="Rerank with the cross-encoder",
                    info=_reranker_note(settings),
                )
                top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages (top-k)")
                debug = gr.Checkbox(value=False, label="Show retrieval debug", elem_id="debug")
            clear = gr.ClearButton(value="New conversation")
    debug_table = _table(
        DEBUG_COLUMNS,
        "Retrieved chunks and their scores (higher is better)",
        "debug-table",
        column_widths=["3%", "13%", "18%", "7%", "7%", "7%", "7%", "38%"],
        visible=False,
    )
    return ChatTab(
        chatbot,
        question,
        send,
        sources,
        mode,
        rerank,
        top_k,
        debug,
        clear,
        debug_table,
        opened,
        ask_about,
        rating,
    )


def _rating_controls() -> RatingControls:
    """The note row is shown once an answer is rated (the thumbs are the Chatbot's own)."""
    with gr.Row(visible=False, elem_id="feedback") as note_row:
        note = gr.Textbox(
            show_label=False,
            placeholder="A note on your rating (optional): what was wrong or missing?",
            scale=5,
            elem_id="feedback-note",
        )
        add_note = gr.Button("Add note", scale=1, elem_id="add-note")
    return RatingControls(gr.State(Ratings()), note_row, note, add_note)


def _library_tab(settings: Settings) -> LibraryTab:
    """The controls that change the library start disabled; the page enables them once it
    knows the user is an editor (the handlers check again)."""
    readers_note = gr.Markdown(
        "You are signed in as a reader: you can ask questions and see the documents; an editor "
        "adds, deletes and tunes them.",
        visible=False,
        elem_id="readers-note",
    )
    with gr.Row():
        with gr.Column():
            # No `file_types`: Gradio would drop any other file in the browser without a word,
            # where the server names it with the reason ("unsupported file type '.xyz'").
            files = gr.File(
                file_count="multiple",
                label="Add documents: PDF, Word, PowerPoint, Excel, CSV, Markdown, HTML or text",
                elem_id="upload",
                interactive=False,
            )
            results = _table(RESULT_COLUMNS, "Last upload or delete", "results")
        with gr.Column():
            documents = _table(DOCUMENT_COLUMNS, "Documents in the collection", "documents")
            doomed = gr.Dropdown(
                multiselect=True, label="Documents to delete", elem_id="doomed", interactive=False
            )
            remove = gr.Button(
                "Delete selected", variant="stop", elem_id="delete", interactive=False
            )
    with gr.Row(equal_height=True):
        tune = gr.Button(
            "Tune this collection", scale=0, min_width=220, elem_id="tune", interactive=False
        )
        tuning = gr.Markdown(_tuning_note(settings, None), elem_id="tuning")
    # Polls a running job's progress; off while none runs.
    timer = gr.Timer(2.0, active=False)
    return LibraryTab(readers_note, files, results, documents, doomed, remove, tune, tuning, timer)


def _tuning_note(settings: Settings, job: TuningJob | None) -> str:
    """What tuning does, or how far it is, and the reranker the collection answers with."""
    said = (
        job.describe()
        if job
        else "Writes questions from these documents with the LLM, then trains the search "
        "models on them (this takes a while; the page stays usable)."
    )
    return f"{said}  \nReranker in use: {reranker_in_use(settings.updated(rerank=True))}"


def _outcomes(rows: list[list[str]]) -> list[str]:
    """Result rows (file, outcome, detail) as the audit log's `what`."""
    return [f"{file}: {outcome}" for file, outcome, _ in rows]


def build_app(chat: Chat, access: Access | None = None) -> gr.Blocks:
    """The chat page over `chat` (its settings also choose the library's home); `access`
    says who may ask and who may change the library (default: no sign-in, everyone may)."""
    settings = chat.settings
    library = Library(settings)
    access = access or Access()

    def ask(
        question: str,
        history: list[dict[str, Any]],
        collection: str,
        mode: str,
        rerank: bool,
        top_k: float,
        documents: list[str] | None,
        section: str,
        cited: CitedAnswers,
        ratings: Ratings,
        request: gr.Request,
    ) -> Iterator[tuple[str, list[dict[str, Any]], str, list[list[str]], Ratings]]:
        """Streams the answer into the chat, then shows its sources and retrieval debug rows;
        its citations open their sources (`cited` is the session's), and the finished answer
        is kept in the session for rating."""
        access.require(request, Role.READER)
        filters = scope_filters(documents, section)
        choices = Choices(collection, SearchMode(mode), rerank, int(top_k), filters)
        asked = {"role": "user", "content": message_html(question)}
        shown = [*history, asked] if question.strip() else history
        ratings.asking(len(shown))
        for turn in chat.ask(question, history, choices, cited):
            content = clickable_citations(
                message_html(turn.text), turn.key, cited.numbers(turn.key)
            )
            reply = [{"role": "assistant", "content": content}] if turn.text else []
            if turn.answer is not None:
                ratings.showing(len(shown), turn.answer, question, collection)
            yield "", shown + reply, turn.sources, turn.debug, ratings

    def rate(ratings: Ratings, liked: gr.LikeData, request: gr.Request) -> tuple[Ratings, Any]:
        """A thumb on an answer: whoever may ask may rate."""
        user = access.require(request, Role.READER)
        with _friendly_errors("Rating"):
            ratings.rate(liked.index, liked.liked, user, settings)
        return ratings, gr.Row(visible=True)

    def add_note(note: str, ratings: Ratings, request: gr.Request) -> tuple[str, Ratings]:
        user = access.require(request, Role.READER)
        with _friendly_errors("Saving the note"):
            rated = ratings.add_note(note, user, settings)
        gr.Info(f"Note saved with your thumbs-{rated.rating}.")
        return "", ratings

    def documents_view(collection: str) -> tuple[list[list[str]], Any]:
        rows = library.documents(collection)
        return rows, source_panel.document_choices(rows, [])

    def open_collection(collection: str) -> tuple[Any, ...]:
        """A new collection: its documents, its cross-encoder, and a fresh conversation."""
        with _friendly_errors("Opening the collection"):
            rows, picker = documents_view(collection)
            note = _reranker_note(library.settings_for(collection))
        return rows, picker, gr.Checkbox(info=note), [], "", []

    def refresh(collection: str) -> tuple[Any, ...]:
        rows, picker = documents_view(collection)
        return gr.Dropdown(choices=library.collections(), value=collection), rows, picker

    def changed(user: str | None, action: audit.Action, collection: str, what: list[str]) -> None:
        audit.record(settings.audit_log, user, action, collection, what)

    def upload(
        files: list[str] | None,
        collection: str,
        request: gr.Request,
        progress: Any = gr.Progress(track_tqdm=True),  # noqa: B008 (Gradio's per-call tracker)
    ) -> tuple[Any, ...]:
        """Ingests the uploaded files; one result row each (ingested / skipped / failed)."""
        user = access.require(request, Role.EDITOR)
        if not files:
            return (None, [], *documents_view(collection))
        progress(0, desc=f"Ingesting {len(files)} file(s)")
        with _friendly_errors("Ingesting"):
            results = library.upload(files, collection)
        changed(user, "upload", collection, _outcomes(results))
        failed = [f"{name}: {detail}" for name, outcome, detail in results if outcome == "failed"]
        if failed:
            gr.Warning("Not ingested: " + "; ".join(failed))
        return (None, results, *documents_view(collection))

    def tuning_view(collection: str, request: gr.Request) -> tuple[Any, ...]:
        job = library.tuning(collection)
        running = job is not None and job.finished is None
        editor = access.role(request) is Role.EDITOR
        return (
            _tuning_note(library.settings_for(collection), job),
            gr.Button(interactive=editor and not running),
            gr.Timer(active=running),
            gr.Checkbox(info=_reranker_note(library.settings_for(collection))),
        )

    def start_tuning(collection: str, request: gr.Request) -> tuple[Any, ...]:
        user = access.require(request, Role.EDITOR)
        with _friendly_errors("Tuning"):
            library.start_tuning(collection)
        changed(user, "tune", collection, ["tuning started"])
        return tuning_view(collection, request)

    def delete(sources: list[str], collection: str, request: gr.Request) -> tuple[Any, ...]:
        user = access.require(request, Role.EDITOR)
        if not sources:
            raise gr.Error("Choose the documents to delete first.")
        with _friendly_errors("Deleting"):
            results = library.delete(sources, collection)
        changed(user, "delete", collection, _outcomes(results))
        return (results, *documents_view(collection))

    def permissions(request: gr.Request) -> tuple[Any, ...]:
        """Who is signed in, and the library's controls enabled for an editor only."""
        signed_in = access.describe(request)
        editor = access.role(request) is Role.EDITOR
        return (
            gr.Markdown(signed_in, visible=bool(signed_in)),
            gr.Button(visible=bool(signed_in)),
            gr.Markdown(visible=not editor),
            gr.File(interactive=editor),
            gr.Dropdown(interactive=editor),
            gr.Button(interactive=editor),
        )

    with gr.Blocks(title="rag_app", analytics_enabled=False) as app:
        with gr.Row(equal_height=True):
            gr.Markdown(
                "## rag_app — answers from your documents\n"
                "Every answer cites its sources as [n]; when the documents do not say, it says so.",
            )
            with gr.Column(scale=0, min_width=180):
                signed_in = gr.Markdown(visible=False, elem_id="signed-in")
                # Gradio's own route: it forgets the session and shows the sign-in form again.
                sign_out = gr.Button(
                    "Sign out", link="logout", size="sm", visible=False, elem_id="sign-out"
                )
            collection = gr.Dropdown(
                choices=library.collections(),
                value=settings.collection,
                label="Collection",
                info="Pick one, or type a new name and press Enter.",
                allow_custom_value=True,
                elem_id="collection",
                scale=0,
                min_width=260,
            )
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                c = _chat_tab(settings)
            with gr.Tab("Library", id="library"):
                lib = _library_tab(settings)

        c.clear.add([c.question, c.chatbot, c.sources, c.debug_table])
        cited = gr.State(CitedAnswers())
        closing = [c.clear.click, collection.change]
        source_panel.wire(
            chat, access, c.sources, cited, c.opened, c.ask_about, closing, _friendly_errors
        )
        # A new answer redraws the conversation, and the page forgets the thumbs it showed:
        # `then` gives them back.
        gr.on(
            [c.question.submit, c.send.click],
            ask,
            [
                c.question,
                c.chatbot,
                collection,
                c.mode,
                c.rerank,
                c.top_k,
                c.ask_about.documents,
                c.ask_about.section,
                cited,
                c.rating.ratings,
            ],
            [c.question, c.chatbot, c.sources, c.debug_table, c.rating.ratings],
            api_name="ask",
            concurrency_limit=settings.ui_concurrency_limit,
            show_progress="minimal",
        ).then(
            lambda ratings, messages: gr.Chatbot(feedback_value=ratings.thumbs(messages)),
            [c.rating.ratings, c.chatbot],
            c.chatbot,
            api_visibility="private",
        )
        c.chatbot.like(
            rate,
            c.rating.ratings,
            [c.rating.ratings, c.rating.note_row],
            api_name="rate",
            api_visibility="private",
        )
        gr.on(
            [c.rating.note.submit, c.rating.add_note.click],
            add_note,
            [c.rating.note, c.rating.ratings],
            [c.rating.note, c.rating.ratings],
            api_name="note",
            api_visibility="private",
        )
        c.debug.change(
            lambda on: gr.Dataframe(visible=on), c.debug, c.debug_table, api_visibility="private"
        )
        collection.change(
            open_collection,
            collection,
            [lib.documents, lib.doomed, c.rerank, c.chatbot, c.sources, c.debug_table],
            api_visibility="private",
        )
        lib.documents.change(
            lambda name, picked: source_panel.document_choices(library.documents(name), picked),
            [collection, c.ask_about.documents],
            c.ask_about.documents,
            api_visibility="private",
        )
        lib.files.upload(
            upload,
            [lib.files, collection],
            [lib.files, lib.results, lib.documents, lib.doomed],
            api_name="upload",
            concurrency_id="library",
            concurrency_limit=1,
        )
        lib.remove.click(
            delete,
            [lib.doomed, collection],
            [lib.results, lib.documents, lib.doomed],
            api_name="delete",
            concurrency_id="library",
            concurrency_limit=1,
        )
        app.load(
            refresh, collection, [collection, lib.documents, lib.doomed], api_visibility="private"
        )
        app.load(
            permissions,
            None,
            [signed_in, sign_out, lib.readers_note, lib.files, lib.doomed, lib.remove],
            api_visibility="private",
        )
        tuning_outputs = [lib.tuning, lib.tune, lib.timer, c.rerank]
        lib.tune.click(start_tuning, collection, tuning_outputs, api_name="tune")
        for event in (lib.timer.tick, collection.change, app.load):
            event(tuning_view, collection, tuning_outputs, api_visibility="private")
    return app


def launch(
    app: gr.Blocks,
    settings: Settings | None = None,
    host: str = "127.0.0.1",
    port: int | None = 7860,
    block: bool = True,
    access: Access | None = None,
) -> gr.Blocks:
    """Serve on loopback by default; with users in `access`, only to those who sign in. No
    share link (it would tunnel out through a hub), no analytics, no server-side rendering or
    MCP endpoint: nothing beyond the page and its API."""
    settings = settings or get_settings()
    app.queue(max_size=settings.ui_queue_size)
    app.launch(
        server_name=host,
        # Gradio's /login awaits a coroutine function (its type hint names only plain ones).
        auth=access.sign_in if access and access.users else None,  # type: ignore[arg-type]
        auth_message="Sign in with your rag_app user name and password.",
        server_port=port,
        share=False,
        inbrowser=False,
        quiet=True,  # Gradio's start-up banner advertises public share links
        prevent_thread_lock=True,
        max_file_size=int(settings.max_file_mb * 1_000_000),
        footer_links=["api", "settings"],
        enable_monitoring=False,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        css=CSS,
    )
    if block:
        print(f"rag_app chat page: {app.local_url} (Ctrl+C stops it)", flush=True)
        app.block_thread()
    return app


def serve(
    settings: Settings | None = None,
    host: str = "127.0.0.1",
    port: int = 7860,
    no_auth: bool = False,
) -> None:
    settings = settings or get_settings()
    access = page_access(settings, host, no_auth)  # before the models load: a refusal is quick
    chat = Chat(settings)
    print("Loading the models…", flush=True)
    chat.warm_up(settings.collection)
    launch(build_app(chat, access), settings, host, port, access=access)
