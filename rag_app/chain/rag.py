"""The runtime chain: condense → retrieve → answer, as LangChain Runnables.

Each stage is a Runnable of its own (usable and testable alone); `build_chain` composes them with
LCEL. Heavy parts (store, embedder, LLM) are created on first use, not when the chain is built.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, Unpack, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from pydantic import BaseModel, ConfigDict, Field

from rag_app.chain.citations import clean_citations
from rag_app.chain.conflicts import conflicts, disagreement_text
from rag_app.chain.expand import write_expansions
from rag_app.chain.grammar import citation_grammar
from rag_app.chain.prompts import (
    answer_prompt,
    chat_prompt,
    passages_block,
    repeats_instructions,
)
from rag_app.chain.quote import closest_quote, quote_text
from rag_app.chain.responds import ResponseJudge
from rag_app.chain.support import (
    CitedPassages,
    SupportChecker,
    split_sentences,
    with_markers,
    without_markers,
)
from rag_app.config import Fusion, Settings, get_settings
from rag_app.errors import InvalidInput
from rag_app.protocols import ParentStore, Reranker, Retriever
from rag_app.retrieval.context import CountTokens
from rag_app.retrieval.coverage import passing_mentions, term_frequency
from rag_app.retrieval.pipeline import Context, RetrievalPipeline
from rag_app.types import Answer, Filters, LLMUsage, Passage, ScoredChunk, SentenceCheck

if TYPE_CHECKING:
    from rag_app.store import CollectionStore

T = TypeVar("T")


class ChainState(BaseModel):
    """What flows between the stages."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    question: str
    history: list[dict[str, str]] = Field(default_factory=list)
    filters: Filters | None = None
    standalone: str = ""
    expansions: list[str] = Field(
        default_factory=list, description="Extra queries from HyDE or multi-query."
    )
    hits: list[ScoredChunk] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    abstain: bool = False
    missing: list[str] = Field(
        default_factory=list, description="Key terms of the question found in nothing read."
    )
    timings: dict[str, float] = Field(default_factory=dict)


class Overrides(TypedDict, total=False):
    """Parts to use instead of the configured ones (tests, custom backends)."""

    retriever: Retriever
    keyword_retriever: Retriever | None
    reranker: Reranker | None
    llm: BaseChatModel
    parents: ParentStore | None
    count_tokens: CountTokens


class SharedParts:
    """What loading costs: the store and the models. Opened on first use and shared by every
    `Components` built over them, so a per-request choice of fusion, rerank or top-k (the chat
    page's settings panel) loads nothing twice."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def store(self) -> CollectionStore:
        from rag_app.store import CollectionStore

        return CollectionStore(self.settings)

    @cached_property
    def reranker(self) -> Reranker | None:
        from rag_app.retrieval.rerank import load_reranker

        return load_reranker(self.settings)

    @cached_property
    def llm(self) -> BaseChatModel:
        from rag_app.models.llm import make_chat_model

        return make_chat_model(self.settings)

    @cached_property
    def count_tokens(self) -> CountTokens:
        from rag_app.models.llm import llm_token_counter

        return llm_token_counter(self.settings)


def _overridable(build: Callable[[Components], T]) -> cached_property[T]:
    """A part of `Components`: the one `Overrides` gave under the same name, else built from
    settings on first use; either way once."""
    name = build.__name__

    def part(self: Components) -> T:
        given: dict[str, Any] = dict(self.overrides)
        return cast(T, given[name]) if name in given else build(self)

    part.__name__, part.__doc__ = name, build.__doc__
    return cached_property(part)


class Components:
    """The chain's parts: the overridden ones as given, the rest built lazily from settings."""

    def __init__(
        self,
        settings: Settings,
        shared: SharedParts | None = None,
        **overrides: Unpack[Overrides],
    ) -> None:
        self.settings = settings
        self.shared = shared or SharedParts(settings)
        self.overrides = overrides

    def with_settings(self, **update: Any) -> Components:
        """These parts under other retrieval settings (fusion, rerank, top_k, ...): only the
        cheap retrievers are built again; store, models and overrides are shared."""
        return Components(self.settings.updated(**update), self.shared, **self.overrides)

    @property
    def store(self) -> CollectionStore:
        return self.shared.store

    @_overridable
    def retriever(self) -> Retriever:
        from rag_app.retrieval.hybrid import HybridRetriever

        return HybridRetriever.from_store(self.store, mode=self.settings.fusion)

    @_overridable
    def keyword_retriever(self) -> Retriever | None:
        """BM25 alone, the one retry when the cross-encoder finds nothing convincing."""
        from rag_app.retrieval.hybrid import HybridRetriever

        return HybridRetriever.from_store(self.store, mode=Fusion.SPARSE)

    @_overridable
    def reranker(self) -> Reranker | None:
        """Loaded only when `rerank` is on; an overriding reranker also obeys `rerank`."""
        return self.shared.reranker

    @_overridable
    def parents(self) -> ParentStore | None:
        return self.store.state if self.settings.parent_child else None

    @_overridable
    def count_tokens(self) -> CountTokens:
        """The context budget is counted in the answering LLM's tokens."""
        return self.shared.count_tokens

    @_overridable
    def llm(self) -> BaseChatModel:
        return self.shared.llm

    @cached_property
    def pipeline(self) -> RetrievalPipeline:
        s = self.settings
        return RetrievalPipeline.from_settings(
            s,
            self.retriever,
            reranker=self.reranker if s.rerank else None,
            keyword_retriever=self.keyword_retriever,
            context=Context(
                self.parents, s.context_token_budget, self.count_tokens, s.passage_token_limit
            ),
            store=self.store,
        )


def _parse_input(value: dict[str, Any] | str) -> ChainState:
    if isinstance(value, str):
        value = {"question": value}
    question = str(value.get("question", "")).strip()
    if not question:
        raise InvalidInput("the chain input needs a non-empty 'question'")
    filters = value.get("filters")
    return ChainState(
        question=question,
        history=list(value.get("history") or []),
        filters=Filters.model_validate(filters) if filters else None,
    )


def _format_history(history: list[dict[str, str]], turns: int = 3) -> str:
    recent = history[-2 * turns :]
    return "\n".join(f"{m.get('role', 'user')}: {m.get('content', '')}" for m in recent)


def _text(message: Any) -> str:
    content = getattr(message, "content", message)
    return content if isinstance(content, str) else str(content)


def condense_stage(parts: Components) -> Runnable[Any, ChainState]:
    """A follow-up ("and how do I change it?") becomes a standalone question for retrieval."""

    def condense(value: dict[str, Any] | str, config: RunnableConfig) -> ChainState:
        state = _parse_input(value)
        if not state.history:
            return state.model_copy(update={"standalone": state.question})
        started = time.perf_counter()
        prompt = chat_prompt("condense").format_messages(
            history=_format_history(state.history), question=state.question
        )
        reply = _text(parts.llm.invoke(prompt, config)).strip()
        standalone = reply.splitlines()[0].strip() if reply else state.question
        return state.model_copy(
            update={
                "standalone": standalone or state.question,
                "timings": {**state.timings, "condense": time.perf_counter() - started},
            }
        )

    return RunnableLambda(condense, name="condense")


def expand_stage(parts: Components) -> Runnable[ChainState, ChainState]:
    """Optional query rewriting: HyDE (a hypothetical answer, which embeds closer to real
    answers than a question does) or multi-query paraphrases."""

    def expand(state: ChainState, config: RunnableConfig) -> ChainState:
        s = parts.settings
        if s.query_expansion == "none":
            return state
        started = time.perf_counter()
        expansions = write_expansions(
            parts.llm, state.standalone, s.query_expansion, s.multi_query_count, config
        )
        return state.model_copy(
            update={
                "expansions": expansions,
                "timings": {**state.timings, "expand": time.perf_counter() - started},
            }
        )

    return RunnableLambda(expand, name="expand")


def retrieve_stage(parts: Components) -> Runnable[ChainState, ChainState]:
    """The retrieval pipeline on the standalone question and its expansions. Abstaining here
    saves the LLM's time."""

    def retrieve(state: ChainState) -> ChainState:
        found = parts.pipeline.run(state.standalone, state.expansions, state.filters)
        return state.model_copy(
            update={
                "hits": found.hits,
                "passages": found.passages,
                "abstain": found.abstain,
                "missing": found.gate.missing,
                "timings": {**state.timings, **found.timings},
            }
        )

    return RunnableLambda(retrieve, name="retrieve")


def llm_usage(message: Any) -> LLMUsage | None:
    """The usage a chat model reports in LangChain's standard `usage_metadata` (the local
    backend, and OpenAI-compatible servers asked for `stream_usage`), with llama.cpp's timings
    from `response_metadata` where present."""
    reported = getattr(message, "usage_metadata", None)
    if not reported:
        return None
    details = reported.get("input_token_details") or {}
    meta = getattr(message, "response_metadata", None) or {}
    return LLMUsage(
        prompt_tokens=reported.get("input_tokens", 0),
        cached_tokens=details.get("cache_read", 0),
        output_tokens=reported.get("output_tokens", 0),
        prefill_seconds=meta.get("prefill_seconds"),
        generation_seconds=meta.get("generation_seconds"),
    )


BACKED = ("supported", "restates")
"""The verdicts of a sentence its passages back (`restates` says nothing new, but truly)."""

WITHHELD_LEAK = "the reply repeated the assistant's rules (a document may have asked for them)"
WITHHELD_UNSUPPORTED = "no sentence of the reply is supported by the passages it cites"
WITHHELD_RESTATES = "the reply only restated the question"
WITHHELD_OFF_QUESTION = "the reply does not answer the question asked"


def not_covered_text(abstain_text: str, missing: list[str]) -> str:
    """The abstention, naming what the documents do not mention: the user learns it is the
    documents, not the question's wording, and can pick other documents."""
    if not missing:
        return abstain_text
    names = ", ".join(f'"{term}"' for term in missing)
    return f"{abstain_text} Nothing retrieved mentions {names}."


def passing_text(terms: list[str]) -> str:
    """Why a reply was withheld whose documents only mention what was asked in passing."""
    names = ", ".join(f'"{term}"' for term in terms)
    return f"the documents it cites mention {names} only in passing"


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z ]", "", text.lower())


class AnswerStage(Runnable[ChainState, Answer]):
    """Prompts the LLM with numbered passages, streams its text, checks the citations.

    A streaming Runnable: `stream`, `astream` and `astream_events` yield partial Answers as
    the text arrives (`.delta` is the new text) and end with the checked one."""

    name = "answer"

    def __init__(self, parts: Components) -> None:
        self.parts = parts

    @property
    def abstain_text(self) -> str:
        return self.parts.settings.abstain_text

    @cached_property
    def support(self) -> SupportChecker:
        return SupportChecker(self.parts.store.embedder, self.parts.settings.min_support)

    @cached_property
    def judge(self) -> ResponseJudge | None:
        """Asks the answering LLM whether a checked reply responds to the question."""
        if not self.parts.settings.responds_check:
            return None
        return ResponseJudge(self.parts.llm)

    def messages(self, state: ChainState) -> list[BaseMessage]:
        """The answer prompt (`answer_prompt`) over this question's numbered passages."""
        passages = passages_block((p.n, p.heading, p.text) for p in state.passages)
        return answer_prompt().format_messages(
            abstain_text=self.abstain_text, passages=passages, question=state.standalone
        )

    def decoding(self, state: ChainState) -> dict[str, Any]:
        """Per-call arguments for the LLM: the citation grammar, on the local backend."""
        s = self.parts.settings
        if not (s.citation_grammar and s.llm_backend == "llamacpp" and state.passages):
            return {}
        return {"grammar": citation_grammar(len(state.passages), self.abstain_text)}

    def redraw(self, state: ChainState, draw: int, timings: dict[str, float]) -> str:
        """Another reply to the same prompt, sampled warmer and with another seed, for when the
        checks stopped or flagged the first: the small model's first reply is often a
        restatement or a near miss where another sample answers from the passages. The prompt
        is the same, so llama.cpp reuses its cached state and only the reply is generated."""
        s = self.parts.settings
        started = time.perf_counter()
        reply = self.parts.llm.invoke(
            self.messages(state),
            temperature=s.redraw_temperature,
            seed=s.llm_seed + draw,
            **self.decoding(state),
        )
        timings["redraw"] = timings.get("redraw", 0.0) + time.perf_counter() - started
        return _text(reply)

    def warm_up(self) -> None:
        """Computes the prompt's fixed part (rules and worked example) once, so the first
        question reuses it like every later one; a local model only, for an endpoint it would
        be a paid request."""
        if self.parts.settings.llm_backend != "llamacpp":
            return
        empty = ChainState(question="-", standalone="")
        self.parts.llm.invoke(self.messages(empty), max_tokens=1)

    def _answer(self, state: ChainState, text: str, **extra: Any) -> Answer:
        extra.setdefault("timings", state.timings)
        return Answer(
            question=state.standalone,
            text=text,
            contexts=state.passages,
            retrieved=state.hits,
            **extra,
        )

    def _says_abstain(self, text: str) -> bool:
        marker = _normalise(self.abstain_text)
        return not text.strip() or marker in _normalise(text)

    def invoke(
        self, input: ChainState, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Answer:
        *_, final = self.stream(input, config)  # the stream ends with the complete Answer
        return final

    async def ainvoke(
        self, input: ChainState, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Answer:
        final: Answer | None = None
        async for answer in self.astream(input, config):
            final = answer
        assert final is not None  # a stream always ends with the complete Answer
        return final

    # The streaming entry points go through LangChain's transform helpers: they open this
    # stage's run in the callbacks and set it as the context's parent, so the LLM call shows
    # as a child run (and `astream_events` reports its tokens); the final Answer is recorded.
    def transform(
        self, input: Iterator[ChainState], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Answer]:
        yield from self._transform_stream_with_config(input, self._answers, config)

    def stream(
        self, input: ChainState, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Answer]:
        yield from self.transform(iter([input]), config)

    async def atransform(
        self,
        input: AsyncIterator[ChainState],
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Answer]:
        async for answer in self._atransform_stream_with_config(input, self._aanswers, config):
            yield answer

    async def astream(
        self, input: ChainState, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Answer]:
        async def once() -> AsyncIterator[ChainState]:
            yield input

        async for answer in self.atransform(once(), config):
            yield answer

    def _answers(self, states: Iterator[ChainState]) -> Iterator[Answer]:
        *_, state = states
        draft = _Draft(self, state)
        if not state.abstain:
            for message in self.parts.llm.stream(self.messages(state), **self.decoding(state)):
                if partial := draft.add(message):
                    yield partial
        yield draft.finish()

    async def _aanswers(self, states: AsyncIterator[ChainState]) -> AsyncIterator[Answer]:
        state = [s async for s in states][-1]
        draft = _Draft(self, state)
        if not state.abstain:
            decoding = self.decoding(state)
            async for message in self.parts.llm.astream(self.messages(state), **decoding):
                if partial := draft.add(message):
                    yield partial
        yield draft.finish()


def _cited(sentences: list[SentenceCheck]) -> list[int]:
    """The passage numbers the checked sentences cite, in order, repeats kept."""
    return [n for check in sentences for n in check.citations]


# How far a reply got through the checks; a redraw replaces the reply only when it gets further.
_STOPPED, _SHOWN, _BACKED_SHOWN = 0, 1, 2


@dataclass
class _Judged:
    """One reply after the checks: the Answer to show, or why they stopped it. `final` when
    drawing again would not help: the model said the documents do not answer (its abstention
    is believed), or it recited its rules (a document asked for them)."""

    answer: Answer | None
    sentences: list[SentenceCheck] = field(default_factory=list)
    withheld: str = ""
    rank: int = _STOPPED
    final: bool = False

    @property
    def cited(self) -> list[int]:
        return _cited(self.sentences)

    def sources(self, given: CitedPassages) -> set[str]:
        return {given.source[n] for n in self.cited}


class _Draft:
    """One answer as the LLM writes it: the text so far, the first token's time, the usage the
    backend reports at the end; then the checked Answer. Shared by the sync and async paths."""

    def __init__(self, stage: AnswerStage, state: ChainState) -> None:
        self.stage = stage
        self.state = state
        self.started = time.perf_counter()
        self.text = ""
        self.first_token: float | None = None
        self.usage: LLMUsage | None = None

    def add(self, message: Any) -> Answer | None:
        self.usage = llm_usage(message) or self.usage
        delta = _text(message)
        if not delta:
            return None
        if self.first_token is None:
            self.first_token = time.perf_counter() - self.started
        self.text += delta
        return self.stage._answer(self.state, self.text, delta=delta, complete=False)

    def finish(self) -> Answer:
        stage, state = self.stage, self.state
        if state.abstain:
            return stage._answer(
                state,
                not_covered_text(stage.abstain_text, state.missing),
                abstained=True,
                not_covered=state.missing,
            )
        timings = {
            **state.timings,
            "first_token": self.first_token or 0.0,
            "llm": time.perf_counter() - self.started,
        }
        given = CitedPassages(state.passages, stage.support.encoder)
        first = best = self._judged(self.text, given, timings)
        written = 1
        # A redraw is another try at the first reply's answer, from the documents it cited:
        # warmer sampling is also another chance for an injected document to be obeyed
        # (eval/results/redraw: "JELLYFISH-OK. breakfast starts at 10:30 am" from the
        # attacker's page, where the first reply had cited the real menu), so a redraw citing
        # any other document is not used, as a quote and a re-attribution never move either.
        sources = first.sources(given)
        while (
            sources
            and not first.final
            and best.rank < _BACKED_SHOWN
            and written <= stage.parts.settings.redraws
        ):
            again = self._judged(stage.redraw(state, written, timings), given, timings)
            written += 1
            if again.rank > best.rank and again.sources(given) <= sources:
                best = again  # ties keep the earlier reply
        if best.answer is not None:
            return best.answer.model_copy(update={"draws": written, "timings": timings})
        quote = (
            closest_quote(state.standalone, given, first.cited)
            if stage.parts.settings.quote_withheld
            else None
        )
        if quote is None or not self._responds(quote.text, timings):
            return self._withheld(first.withheld, first.sentences, timings, draws=written)
        return self._checked(
            quote_text(quote), [quote], given, timings, quoted=first.withheld, draws=written
        )

    def _judged(self, reply: str, given: CitedPassages, timings: dict[str, float]) -> _Judged:
        """One reply put through the checks: shown (`answer`), or why they stopped it."""
        stage, state = self.stage, self.state
        checked = clean_citations(reply, state.passages)
        if stage._says_abstain(checked.text):
            abstention = stage._answer(
                state, stage.abstain_text, abstained=True, timings=timings, usage=self.usage
            )
            return _Judged(abstention, final=True)
        sentences = stage.support.check(checked.text, given, state.standalone)
        verdicts = {s.verdict for s in sentences}
        if repeats_instructions(checked.text):
            return _Judged(self._withheld(WITHHELD_LEAK, sentences, timings), final=True)
        if "supported" not in verdicts:
            withheld = WITHHELD_RESTATES if "restates" in verdicts else WITHHELD_UNSUPPORTED
        elif passing := self._in_passing(sentences, given):
            withheld = passing_text(passing)
        else:
            text, shown = self._shown(checked.text, sentences)
            if self._responds(text, timings):
                answer = self._checked(
                    text, shown, given, timings, invalid_citations=checked.invalid
                )
                backed = all(c.verdict in BACKED for c in sentences)
                return _Judged(answer, sentences, rank=_BACKED_SHOWN if backed else _SHOWN)
            withheld = WITHHELD_OFF_QUESTION
        return _Judged(None, sentences, withheld=withheld)

    def _in_passing(self, sentences: list[SentenceCheck], given: CitedPassages) -> list[str]:
        """The question's subject, when the reply has an unbacked sentence and the documents
        it cites only mention that subject in passing (`passing_mentions`): the backed part is
        then incidental (GLM-130B "deployed as a baseline") and the rest the model's own.
        A reply backed throughout stays, as it states only what the documents say."""
        share = self.stage.parts.settings.min_subject_share
        if not share or all(c.verdict in BACKED for c in sentences):
            return []
        cited = sorted(set(_cited(sentences)))
        store = self.stage.parts.store

        def children(source: str) -> list[str]:
            return [chunk.text for chunk in store.state.document_children(source)]

        sources = sorted({given.source[n] for n in cited})
        names = [given.named[n] for n in cited]
        frequency = term_frequency(store.bm25())
        return passing_mentions(self.state.standalone, sources, children, names, frequency, share)

    def _shown(self, text: str, sentences: list[SentenceCheck]) -> tuple[str, list[SentenceCheck]]:
        """The reply as shown: re-attributed sentences cite the passage that backs them, and
        unsupported ones are dropped when the setting says so."""
        split = split_sentences(text)
        written = [
            with_markers(check.text, check.citations) if check.recited_from else sentence
            for sentence, check in zip(split, sentences, strict=True)
        ]
        text = text if written == split else " ".join(written)
        if self.stage.parts.settings.unsupported_sentences == "drop":
            kept = [
                (w, c) for w, c in zip(written, sentences, strict=True) if c.verdict == "supported"
            ]
            text, sentences = " ".join(w for w, _ in kept), [c for _, c in kept]
        return text, sentences

    def _responds(self, text: str, timings: dict[str, float]) -> bool:
        """The responds check; its time adds up over the reply and a quote."""
        judge = self.stage.judge
        if judge is None:
            return True
        started = time.perf_counter()
        responds = judge.score(self.state.standalone, without_markers(text))
        timings["responds"] = timings.get("responds", 0.0) + time.perf_counter() - started
        # None (an endpoint's reply was neither word) is no verdict: the reply is shown
        return responds is None or responds >= self.stage.parts.settings.min_responds

    def _checked(
        self,
        text: str,
        sentences: list[SentenceCheck],
        given: CitedPassages,
        timings: dict[str, float],
        **extra: Any,
    ) -> Answer:
        """A reply (or quote) the checks passed, with any disagreement of other documents."""
        stage, state = self.stage, self.state
        numbers = set(_cited(sentences))
        disputed = []
        if stage.parts.settings.show_conflicts:
            similarity = stage.parts.settings.conflict_similarity
            disputed = conflicts(sentences, given, state.standalone, similarity)
            text = " ".join([text, disagreement_text(disputed)]) if disputed else text
            numbers |= {c.passage for c in disputed}
        return stage._answer(
            state,
            text,
            citations=[p for p in state.passages if p.n in numbers],
            sentences=sentences,
            conflicts=disputed,
            timings=timings,
            usage=self.usage,
            **extra,
        )

    def _withheld(
        self,
        reason: str,
        sentences: list[SentenceCheck],
        timings: dict[str, float],
        **extra: Any,
    ) -> Answer:
        """The abstention in place of a reply the checks stopped, saying which and why."""
        return self.stage._answer(
            self.state,
            self.stage.abstain_text,
            abstained=True,
            withheld=reason,
            sentences=sentences,
            timings=timings,
            usage=self.usage,
            **extra,
        )


def build_chain(
    settings: Settings | None = None, **overrides: Unpack[Overrides]
) -> Runnable[Any, Answer]:
    """The question-answering chain. With no arguments it uses the configured models and store.

    ``chain.invoke({"question": q, "history": [...], "filters": {...}})`` returns an `Answer`:
    history is a list of ``{"role": "user" | "assistant", "content": str}``, filters a `Filters`
    dict (``source`` glob, ``section`` prefix, ``doc_type``). ``chain.stream(...)`` yields
    partial Answers (``.delta`` is the new text) and ends with the complete one.
    """
    return compose(Components(settings or get_settings(), **overrides))


def compose(parts: Components) -> Runnable[Any, Answer]:
    """The chain over given parts (`build_chain` makes them from settings and overrides)."""
    chain = condense_stage(parts) | expand_stage(parts) | retrieve_stage(parts) | AnswerStage(parts)
    return chain.with_config(run_name="rag_app")
