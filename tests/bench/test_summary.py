"""The benchmark summary: goals judged from the numbers, missing parts shown as missing."""

import math

from bench.common import ratio, timing
from bench.summary import markdown_summary


def _result(parts: dict[str, object]) -> dict[str, object]:
    return {"date": "2026-11-23", "git_commit": "abc", "machine": "x86_64, 2 CPUs", "parts": parts}


def test_goals_are_judged_from_the_measured_values() -> None:
    text = markdown_summary(
        _result(
            {
                "ingest-fastapi": {
                    "ingest": {"ratio_to_raw_encode": 0.85, "reingest_share_of_first": 0.2},
                    "wall_s": 10,
                },
                "query": {
                    "retrieve_rerank_over_cross_encoder_p50": 1.04,
                    "queries": 100,
                    "llm_queries": 5,
                    "llm": "qwen",
                    "reranker": "tuned",
                    "rerank_depth": 30,
                    "rerank_max_length": 192,
                    "warm_up_s": 3.0,
                    "stages": {"bm25": {"p50_ms": 2.0, "p95_ms": 3.0, "n": 100.0}},
                },
                "startup": {
                    "help": {
                        "median_s": 1.7,
                        "max_s": 2.0,
                        "runs": 5,
                        "heavy_modules_imported_by_cli": "[]",
                    }
                },
            }
        )
    )
    lines = text.splitlines()
    assert "| ingest chunks/s ÷ raw encode, FastAPI docs | 0.85 | ≥ 0.8 | yes |" in lines
    assert "| unchanged re-ingest ÷ first ingest, FastAPI docs | 0.2 | < 0.05 | NO |" in lines
    assert "| retrieval + rerank ÷ cross-encoder alone (p50) | 1.04 | ≤ 1.5 | yes |" in lines
    assert "| `rag --help`, seconds (median) | 1.7 | < 1 | NO |" in lines
    assert "| ingest chunks/s ÷ raw encode, SciFact | – | ≥ 0.8 | not measured |" in lines
    assert "| bm25 | 2.0000 | 3.0000 | 100 |" in lines


def test_a_failed_part_is_named_and_its_sections_stay_empty() -> None:
    text = markdown_summary(
        _result({"scale": {"error": "Traceback\nRuntimeError: chroma run did not start"}})
    )
    assert "- **scale** failed: `RuntimeError: chroma run did not start`" in text
    assert "## Dense search at scale\n\n_not run_" in text


def test_timing_and_ratio_helpers() -> None:
    found = timing([0.001, 0.002, 0.003, 0.004])
    assert found == {"p50_ms": 2.5, "p95_ms": 3.85, "n": 4.0}
    assert ratio(3.0, 2.0) == 1.5
    assert math.isnan(ratio(1.0, 0.0))


def test_the_llm_part_shows_each_length_its_ceiling_and_the_prefix_reuse() -> None:
    row = {
        "ceiling_prefill_tok_s": 100.0,
        "prefill_tok_s": 75.0,
        "prefill_of_ceiling": 0.75,
        "ceiling_generation_tok_s": 13.0,
        "generation_tok_s": 12.5,
        "first_token_s": 14.2,
    }
    llm = {
        "model": "qwen",
        "n_threads": 2,
        "n_batch": 512,
        "kernels": ["AVX2", "AVX512"],
        "speeds": {"1024": row},
        "prefix": {
            "second_question": {"prompt_tokens": 700, "cached_tokens": 260, "first_token_s": 4.1}
        },
    }
    text = markdown_summary(_result({"llm": llm}))
    lines = text.splitlines()
    goal = "| LLM prefill through the chat model ÷ the binary's ceiling, 1,024 tokens | 0.75 |"
    assert any(line.startswith(goal) and line.endswith("| NO |") for line in lines)
    assert "| 1024 | 100 | 75 | 0.7500 | 13 | 12 | 14 |" in lines
    assert "second question: 260 of 700 cached, first token 4.1 s" in text
    assert "## Bi-encoder: PyTorch against int8 ONNX\n\n_not run_" in text


def test_the_ui_load_part_shows_its_timings_queue_and_errors() -> None:
    part = {
        "users": 20,
        "llm_model": "smollm2-135m-instruct",
        "llm_max_tokens": 64,
        "ui_concurrency_limit": 4,
        "ui_queue_size": 64,
        "wait_to_first_output": timing([1.0, 3.0]),
        "first_word": timing([2.0, 4.0]),
        "total": timing([2.5, 4.5]),
        "max_queue_position": 15,
        "users_who_saw_a_position": 18,
        "errors": 0,
        "all_answered_s": 119.5,
        "non_loopback_connections": [],
    }
    text = markdown_summary(_result({"ui-load": part}))
    assert "20 signed-in users asking at once" in text
    assert "page concurrency limit 4, queue size 64" in text
    assert "| total | 3500 | 4400 | 2.0000 |" in text
    assert "Highest queue position seen 15 (0 = next), by 18 users; errors 0" in text
