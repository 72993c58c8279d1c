from rag_app.chain.conflicts import disagreement_text
from rag_app.types import Answer, Chunk, Conflict, LLMUsage, Passage, ScoredChunk, SentenceCheck
from rag_app.ui.render import (
    DEBUG_COLUMNS,
    debug_rows,
    marked_answer,
    notice_html,
    sources_html,
)
from tests.fakes import withheld_answer

PASSAGE = Passage(
    n=2,
    text="Closed on <Mondays> & holidays.",
    source="/docs/guide/tools.pdf",
    title="Tool Shed",
    section="Tool Shed > Opening hours",
    page=3,
)


def test_sources_list_title_heading_page_file_and_escaped_text() -> None:
    shown = sources_html(Answer(question="q", text="Closed [2].", citations=[PASSAGE]))
    assert '<details class="rag-source" data-n="2">' in shown
    assert '<b class="rag-title">Tool Shed</b>' in shown
    assert '<span class="rag-section">Opening hours</span>' in shown  # title not repeated
    assert "page 3" in shown and "tools.pdf" in shown and "/docs/guide" not in shown
    assert "Closed on &lt;Mondays&gt; &amp; holidays." in shown and "<Mondays>" not in shown


def test_a_passage_without_title_is_named_by_its_file() -> None:
    bare = Passage(n=1, text="x", source="/d/notes.txt")
    shown = sources_html(Answer(question="q", text="x [1]", citations=[bare]))
    assert '<b class="rag-title">notes.txt</b>' in shown and "rag-section" not in shown


def test_abstention_and_uncited_answers_are_explained_not_errors() -> None:
    abstained = sources_html(Answer(question="q", text="no", abstained=True))
    assert "rag-abstained" in abstained and "did not guess" in abstained
    uncited = sources_html(Answer(question="q", text="Maybe."))
    assert "rag-uncited" in uncited and "rag-source" not in uncited
    withheld = sources_html(Answer(question="q", text="no", abstained=True, withheld="a <why>"))
    assert "was not shown" in withheld and "a &lt;why&gt;" in withheld
    assert "rag-source" not in withheld  # nothing was read: nothing to list


def test_a_withheld_reply_lists_the_passages_read_for_the_user_to_check() -> None:
    answer = withheld_answer(PASSAGE)
    shown = sources_html(answer)
    assert "was not shown" in shown and "the answer may be in them" in shown
    assert '<details class="rag-source" data-n="2">' in shown
    assert "Closed on &lt;Mondays&gt;" in shown and "rag-cite" not in shown  # read, not cited
    gated = sources_html(answer.model_copy(update={"withheld": ""}))
    assert "rag-source" not in gated  # retrieval found nothing relevant: none is listed


def test_a_quote_in_place_of_a_withheld_reply_says_whose_words_it_is() -> None:
    quote = SentenceCheck(text="Closed on Mondays.", citations=[2], verdict="supported")
    answer = Answer(
        question="q",
        text='"Closed on Mondays." [2]',
        citations=[PASSAGE],
        sentences=[quote],
        quoted="the reply only restated <the question>",
    )
    shown = sources_html(answer)
    assert "Quoted from the documents" in shown and "restated &lt;the question&gt;" in shown
    assert '<details class="rag-source" data-n="2">' in shown  # its source is listed as usual
    assert marked_answer(answer) == answer.text  # a quote is backed: nothing to mark
    plain = sources_html(answer.model_copy(update={"quoted": ""}))
    assert "Quoted from the documents" not in plain


def test_timings_are_shown_under_the_sources() -> None:
    answer = Answer(question="q", text="x [2]", citations=[PASSAGE], timings={"first_token": 1.25})
    assert "first token 1.2 s" in sources_html(answer)


def test_prompt_size_cache_and_prefill_speed_are_shown_with_the_timings() -> None:
    usage = LLMUsage(prompt_tokens=812, cached_tokens=262, prefill_seconds=5.5)
    answer = Answer(question="q", text="x [2]", citations=[PASSAGE], usage=usage)
    assert "prompt 812 tokens (262 cached) at 100 tok/s" in sources_html(answer)
    assert usage.to_json()["prefill_tokens_per_s"] == 100.0
    remote = LLMUsage(prompt_tokens=90)  # an endpoint that reports no timings
    assert remote.prefill_tokens_per_s is None and remote.to_json()["prefill_tokens_per_s"] is None


def test_notice_is_escaped() -> None:
    assert notice_html("<b>") == '<div class="rag-notice">&lt;b&gt;</div>'


def test_debug_rows_show_each_stage_score_and_blank_for_unscored() -> None:
    chunk = Chunk(id="c", text="word " * 60, source="/d/garden.md", section="Garden > Water")
    hits = [
        ScoredChunk(chunk=chunk, score=0.9, scores={"dense": 0.61234, "fused": 0.9}),
        ScoredChunk(
            chunk=chunk.model_copy(update={"title": "Garden"}),
            score=0.031,  # rerank combined with the fused order: in no column before "order"
            scores={"sparse": 3.5, "fused": 0.4, "rerank": 2.0, "reranked": 0.031},
        ),
    ]
    rows = debug_rows(hits)
    assert len(rows[0]) == len(DEBUG_COLUMNS)
    assert rows[0][:8] == ["1", "garden.md", "Garden > Water", "0.612", "", "0.900", "", "0.900"]
    assert rows[1][:8] == ["2", "Garden", "Garden > Water", "", "3.500", "0.400", "2.000", "0.031"]
    assert rows[0][8].endswith(" …") and len(rows[0][8]) <= 162


def test_sentences_the_check_did_not_back_are_marked_and_counted() -> None:
    checks = [
        SentenceCheck(text="Closed on Mondays.", citations=[2], support=0.9, verdict="supported"),
        SentenceCheck(text="Open at 4 am.", citations=[2], verdict="unsupported", missing=["4"]),
        SentenceCheck(text="PWNED.", verdict="uncited"),
    ]
    answer = Answer(
        question="q",
        text="Closed on Mondays [2]. Open at 4 am [2]. PWNED.",
        citations=[PASSAGE],
        sentences=checks,
    )
    assert marked_answer(answer) == (
        "Closed on Mondays [2]. Open at 4 am [2]. _(unsupported)_ PWNED. _(unsupported)_"
    )
    assert "marks 2 sentence(s)" in sources_html(answer)
    abstained = Answer(question="q", text="No.", abstained=True, sentences=checks[2:])
    assert marked_answer(abstained) == "No."  # an abstention is never marked


def test_a_disagreement_quoted_after_the_answer_is_shown_unmarked() -> None:
    conflict = Conflict(sentence=0, passage=3, text="Due by the 5th.", source="b", similarity=0.8)
    note = disagreement_text([conflict])
    checks = [SentenceCheck(text="Due by the 25th.", citations=[2], verdict="unsupported")]
    answer = Answer(
        question="q", text=f"Due by the 25th [2]. {note}", sentences=checks, conflicts=[conflict]
    )
    assert marked_answer(answer) == f"Due by the 25th [2]. _(unsupported)_ {note}"
    shown = answer.model_copy(update={"citations": [PASSAGE], "sentences": []})
    assert "disagree.</b> Other figures than the answer's are in b:" in sources_html(shown)
    assert "disagree" not in sources_html(shown.model_copy(update={"conflicts": []}))
    assert note == "Another document says otherwise: \u201cDue by the 5th\u201d [3]."


def test_with_the_answers_key_each_source_number_opens_it() -> None:
    answer = Answer(question="q", text="Closed [2].", citations=[PASSAGE])
    assert "rag-cite" not in sources_html(answer)
    assert '<button type="button" class="rag-cite rag-cite-k1-2"' in sources_html(answer, "k1")
