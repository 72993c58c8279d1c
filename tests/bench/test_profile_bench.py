"""The py-spy summary: samples under the timed loop only, per stage and per leaf function."""

from bench.profile_bench import LOOPS, parse_collapsed, summarise

LOOP = "time_stages (bench/query_bench.py:80)"
RUN = "<module> (runpy.py:1);run (bench/query_bench.py:140)"
CE = "CrossEncoderReranker.logits (rag_app/retrieval/rerank.py:99)"
STACKS = "\n".join(
    [
        "<module> (runpy.py:1);import_models (rag_app/chain/rag.py:10) 50",
        f"{RUN};{LOOP};{CE};forward (torch/nn/modules/linear.py:125) 60",
        f"{RUN};{LOOP};RetrievalPipeline.run (rag_app/x.py:95);score (rag_app/x.py:82) 10",
        f"{RUN};{LOOP};HybridRetriever.sparse (rag_app/x.py:57);search (bm25s/__init__.py:700) 20",
        f"{RUN};{LOOP} 5",
    ]
)


def test_parse_collapsed_reads_frames_root_first_and_counts() -> None:
    stacks = parse_collapsed([*STACKS.splitlines(), ""])
    assert len(stacks) == 5
    frames, count = stacks[1]
    assert frames[0] == "<module> (runpy.py:1)" and frames[-1].startswith("forward") and count == 60


def test_summary_keeps_the_loop_and_splits_it_by_stage_and_leaf() -> None:
    summary = summarise(parse_collapsed(STACKS.splitlines()))
    # Model loading (outside the loop) and the loop's own frame are left out: 60 + 10 + 20.
    assert summary["samples"] == 90
    assert summary["stage_share"] == {
        "cross-encoder alone": round(60 / 90, 4),
        "bm25": round(20 / 90, 4),
        "retrieval pipeline (search, fusion, hydrate, rerank, parent expansion)": round(10 / 90, 4),
    }
    assert summary["top_self"][0] == {
        "function": "forward (torch/nn/modules/linear.py)",
        "share": round(60 / 90, 4),
    }
    assert summary["self_share_in_our_code"] == round(10 / 90, 4)


def test_summary_of_no_samples_claims_nothing() -> None:
    summary = summarise([])
    assert summary["samples"] == 0 and summary["top_self"] == []
    assert summary["self_share_in_our_code"] is None


def test_ingest_stages_split_the_store_step_by_what_it_calls() -> None:
    run = "<module> (runpy.py:1);Ingestor.run (ingest/pipeline.py:90)"
    stacks = parse_collapsed(
        [
            f"{run};parse (ingest/parse.py:10);markdown (x.py:1) 3",
            f"{run};Ingestor._store (ingest/pipeline.py:136);EmbeddingCache.encode (e.py:28) 6",
            f"{run};Ingestor._store (ingest/pipeline.py:136);VectorIndex.nearest (v.py:150) 1",
        ]
    )
    summary = summarise(stacks, LOOPS["ingest"])
    assert summary["stage_share"] == {
        "Ingestor._store > EmbeddingCache.encode": 0.6,
        "parse": 0.3,
        "Ingestor._store > VectorIndex.nearest": 0.1,
    }
