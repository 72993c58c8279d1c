from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage

from rag_app.config import Fusion, Settings
from rag_app.ui.chat import Chat, Choices, SearchMode, Turn
from tests.fakes import RecordingLLM, ScriptedReranker

HYBRID = Choices("default", SearchMode.HYBRID, rerank=False, top_k=5)


def ask(chat: Chat, question: str, choices: Choices = HYBRID, history: Any = ()) -> list[Turn]:
    return list(chat.ask(question, list(history), choices))


def test_answer_streams_then_shows_sources_and_debug_rows(ingested: Settings) -> None:
    chat = Chat(ingested, llm=FakeListChatModel(responses=["Before 9 am every morning [1]."]))
    turns = ask(chat, "When do I water the tomatoes?")
    assert "Searching" in turns[0].sources and turns[0].text == ""
    partial = [t.text for t in turns[1:-1]]
    assert len(partial) > 1 and partial[-1] == "Before 9 am every morning [1]."
    final = turns[-1]
    assert final.text == "Before 9 am every morning [1]."
    assert 'data-n="1"' in final.sources and "Watering" in final.sources
    assert "9 am" in final.sources  # the passage text, inside its <details>
    assert final.debug and final.debug[0][2] == "Gardening Handbook > Watering"
    assert final.answer and final.answer.citations  # what a rating of it stores
    assert all(t.answer is None for t in turns[:-1])


def test_follow_up_uses_the_page_history(ingested: Settings) -> None:
    llm = RecordingLLM(responses=["When is the tool shed open?", "8 am to 6 pm [1]."])
    history = [  # as Gradio 6 sends it: content as typed parts
        {"role": "user", "content": [{"type": "text", "text": "Tell me about the tool shed."}]},
        {"role": "assistant", "content": [{"type": "text", "text": "You borrow tools there."}]},
    ]
    final = ask(Chat(ingested, llm=llm), "When is it open?", history=history)[-1]
    condense_prompt = str(llm.prompts[0][0].content)
    assert "user: Tell me about the tool shed." in condense_prompt
    assert "assistant: You borrow tools there." in condense_prompt
    assert final.text == "8 am to 6 pm [1]." and "Opening hours" in final.sources


@pytest.mark.integration
def test_off_topic_question_is_an_abstention(ingested: Settings) -> None:
    chat = Chat(ingested, llm=FakeListChatModel(responses=["unused"]))
    final = ask(chat, "What is the boiling point of mercury in kelvin?")[-1]
    assert final.text == ingested.abstain_text and "rag-abstained" in final.sources


@pytest.mark.parametrize(
    ("mode", "scored", "unscored"),
    [("dense", 3, 4), ("bm25", 4, 3), ("hybrid", 5, 6)],
)
def test_retrieval_mode_and_top_k_apply_per_question(
    ingested: Settings, mode: Any, scored: int, unscored: int
) -> None:
    """Columns 3-6 of a debug row are the dense, sparse, fused and rerank scores."""
    chat = Chat(ingested, llm=FakeListChatModel(responses=["Before 9 am [1]."]))
    rows = ask(
        chat, "When do I water the tomatoes?", Choices("default", SearchMode(mode), False, 2)
    )[-1].debug
    assert len(rows) == 2
    assert rows[0][scored] != "" and all(row[unscored] == "" for row in rows)


def test_rerank_toggle_loads_the_cross_encoder_once(
    ingested: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads = []

    def load(settings: Settings) -> ScriptedReranker:
        loads.append(settings.collection)
        return ScriptedReranker({"9 am": 4.0})

    monkeypatch.setattr("rag_app.retrieval.rerank.load_reranker", load)
    chat = Chat(ingested, llm=FakeListChatModel(responses=["Before 9 am [1]."]))
    question = "When do I water the tomatoes?"
    for top_k in (3, 4):
        reranked = ask(chat, question, Choices("default", SearchMode.HYBRID, True, top_k))[-1].debug
        assert reranked[0][6] == "4.000" and len(reranked) == top_k
    plain = ask(chat, question, Choices("default", SearchMode.BM25, False, 3))[-1].debug
    assert all(row[6] == "" for row in plain)
    assert loads == ["default"]


def test_empty_collection_says_where_to_add_documents(settings: Settings) -> None:
    chat = Chat(settings, llm=FakeListChatModel(responses=["unused"]))
    final = ask(chat, "Anything?")[-1]
    assert "no documents yet" in final.text and "Library" in final.text


class FailingOnce(FakeListChatModel):
    """Fails its first call, as a crashed or unreachable model would, then answers."""

    failed: bool = False

    def _stream(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Iterator[Any]:
        if not self.failed:
            self.failed = True
            raise RuntimeError("llama_decode returned -3")
        return super()._stream(messages, *args, **kwargs)


def test_model_failure_is_a_message_and_the_next_question_works(
    ingested: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    chat = Chat(ingested, llm=FailingOnce(responses=["Before 9 am [1]."]))
    failed = ask(chat, "When do I water the tomatoes?")[-1]
    assert "answering failed (RuntimeError: llama_decode returned -3)" in failed.text
    assert "still running" in failed.text and "answering failed" in caplog.text
    assert ask(chat, "When do I water the tomatoes?")[-1].text == "Before 9 am [1]."


def test_bad_collection_name_and_empty_question_are_explained(ingested: Settings) -> None:
    chat = Chat(ingested, llm=FakeListChatModel(responses=["unused"]))
    bad = ask(chat, "q?", Choices("no spaces allowed", SearchMode.HYBRID, False, 5))[-1]
    assert bad.text.startswith("⚠️ setting collection:")
    assert [t.text for t in ask(chat, "   ")] == [""]
    assert "type a question" in ask(chat, "   ")[-1].sources


@pytest.mark.parametrize(
    ("mode", "configured", "used"),
    [
        (SearchMode.HYBRID, Fusion.RRF, Fusion.RRF),
        (SearchMode.HYBRID, Fusion.DENSE, Fusion.ALPHA),  # the configured one alone: default
        (SearchMode.DENSE, Fusion.ALPHA, Fusion.DENSE),
        (SearchMode.BM25, Fusion.RRF, Fusion.SPARSE),
    ],
)
def test_page_modes_map_to_the_fusion_the_pipeline_runs(
    mode: SearchMode, configured: Fusion, used: Fusion
) -> None:
    assert mode.fusion(configured) is used
