"""The one settings object of rag_app.

Precedence (highest first): arguments to ``Settings(...)``, ``RAG_*`` environment variables, a
TOML file, the defaults below. The TOML file is ``$RAG_CONFIG`` if set, else ``rag.toml`` in the
working directory, else ``$RAG_HOME/config.toml``; its keys are the field names below, at the top
level or in the table of their section (``[retrieval]`` holds ``top_k``).
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_HOME = Path(".rag")
_Section = TypeVar("_Section", bound=BaseModel)


class Fusion(StrEnum):
    """How the dense and BM25 rankings combine, or which one is used alone."""

    RRF = "rrf"
    ALPHA = "alpha"
    DENSE = "dense"
    SPARSE = "sparse"

    @property
    def hybrid(self) -> bool:
        return self in (Fusion.RRF, Fusion.ALPHA)


def config_file() -> Path | None:
    """The TOML file that feeds the settings, or None when there is none."""
    explicit = os.environ.get("RAG_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise FileNotFoundError(f"RAG_CONFIG points to {path}, which is not a file")
        return path
    for candidate in (
        Path("rag.toml"),
        Path(os.environ.get("RAG_HOME", DEFAULT_HOME)) / "config.toml",
    ):
        if candidate.is_file():
            return candidate
    return None


class StateSettings(BaseModel):
    """Where state lives: one folder, or a Chroma server for the vectors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    home: Path = Field(
        DEFAULT_HOME,
        description="Folder holding all state (stores, caches, assembled models); a fresh "
        "folder gives a clean instance.",
    )
    collection: str = Field(
        "default",
        description="Name of the document collection to ingest into and answer from.",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,62}[A-Za-z0-9]$",
    )
    chroma_host: str | None = Field(
        None,
        description="Chroma server host; when set, the server is used instead of the "
        "embedded store under `home`.",
    )
    models_dir: Path = Field(
        DEFAULT_HOME / "models",
        description="Where bundled GGUFs are assembled (~1.6 GB); defaults to `home`/models. "
        "Point several homes at one folder to assemble once.",
    )
    chroma_port: int = Field(8000, description="Chroma server port (with `chroma_host`).")

    @model_validator(mode="before")
    @classmethod
    def _models_dir_follows_home(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("models_dir"):
            data = {**data, "models_dir": Path(data.get("home") or DEFAULT_HOME) / "models"}
        return data


class ModelSettings(BaseModel):
    """The bi-encoder and the answering LLM, and how the LLM runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="Bi-encoder: a bundled model name or a local sentence-transformers folder.",
    )
    embedding_batch_size: int = Field(
        32, ge=1, description="Texts per embedding batch; 32 is the measured CPU sweet spot."
    )
    llm_backend: Literal["llamacpp", "openai"] = Field(
        "llamacpp",
        description="`llamacpp` runs a local GGUF in-process; `openai` talks to any "
        "OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp server, OpenAI).",
    )
    llm_model: str = Field(
        # Measured on the demo corpus (8 questions): the 1.5B answered 6 of 7 answerable ones
        # correctly, the 0.5B 2 of 7 and invented an answer to an unanswerable one; first token
        # ~8-10 s vs ~4-7 s. Bundled: qwen2.5-coder-1.5b-instruct, qwen2.5-coder-0.5b-instruct
        # (faster), smollm2-135m-instruct (tests only).
        "qwen2.5-coder-1.5b-instruct",
        description="For llamacpp: a bundled model name or a path to a .gguf file; for openai: "
        "the model name at the endpoint.",
    )
    llm_base_url: str | None = Field(
        None, description="Base URL of the OpenAI-compatible endpoint (llm_backend=openai)."
    )
    llm_api_key: str | None = Field(
        None,
        description="API key for the endpoint; falls back to the OPENAI_API_KEY variable.",
        repr=False,
    )
    llm_max_tokens: int = Field(384, ge=16, description="Maximum tokens generated per answer.")
    llm_temperature: float = Field(
        0.1, ge=0.0, le=2.0, description="Sampling temperature; low keeps answers grounded."
    )
    llm_context_window: int = Field(
        4096, ge=512, description="Context window given to llama.cpp (prompt + answer)."
    )
    llm_threads: int | None = Field(
        None, ge=1, description="CPU threads for llama.cpp; None uses every core."
    )
    llm_seed: int = Field(0, description="Sampling seed, so answers are reproducible.")
    llm_prompt_cache_mb: int = Field(
        # Each state kept holds the logits buffer too (rag_app/models/prompt_cache.py): ~340 MB
        # for Qwen2.5 1.5B after an answer prompt, so 1,024 keeps about three.
        1024,
        ge=0,
        description="Memory for llama.cpp states kept after each answer, so a question after "
        "another kind of prompt (a follow-up's condense step, another user's) still reuses the "
        "answer prompt's fixed prefix instead of computing it again; 0 turns it off. A state "
        "larger than this is never kept.",
    )


class IngestSettings(BaseModel):
    """How documents become chunks: sizes, splitting, file rules, PDF reading."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    child_chunk_tokens: int = Field(
        192,
        ge=32,
        le=512,
        description="Target size of searched child chunks, in tokens of "
        "the embedding model (MiniLM reads at most 256).",
    )
    child_overlap_tokens: int = Field(
        24, ge=0, description="Overlap between neighbouring child chunks (~10-20 %)."
    )
    parent_chunk_tokens: int = Field(
        768,
        ge=64,
        description="Largest parent section the LLM reads; longer sections are "
        "cut into windows of this size.",
    )
    parent_child: bool = Field(
        True, description="Store parents and give them to the LLM; False ingests flat chunks."
    )
    chunking: Literal["structured", "recursive", "semantic"] = Field(
        "structured",
        description="How children are cut: `structured` follows headings, sentences, code "
        "blocks and tables; `recursive` is plain recursive splitting of the whole text; "
        "`semantic` cuts where consecutive sentences' embeddings diverge (embeds every "
        "sentence: slower ingest). Compare them with `rag eval chunking`.",
    )
    semantic_breakpoint_percentile: float = Field(
        95.0,
        gt=0.0,
        lt=100.0,
        description="Semantic chunking cuts between sentences whose similarity is in the "
        "lowest (100 - this) percent of the document's neighbouring pairs.",
    )

    index_reference_lists: bool = Field(
        False,
        description="Search the reference lists (bibliographies) of papers and reports. Off, "
        "their chunks are recognised at ingest and left out of the index: their titles match "
        "questions by their words and back no answer. Applies to files ingested from then on.",
    )

    ingest_batch_chunks: int = Field(
        512,
        ge=1,
        description="Children embedded and committed together: large enough to keep the "
        "encoder's batches full across many small files, small enough that a killed ingest "
        "loses little work.",
    )
    near_duplicate_similarity: float = Field(
        0.98,
        gt=0.0,
        le=1.01,
        description="Children at least this cosine-similar to one already stored are kept "
        "once (all sources recorded); above 1 switches it off.",
    )
    include: list[str] = Field(
        default_factory=list,
        description="Globs a file in an ingested folder must match (empty: every supported "
        "type), on its path relative to the folder or its name, e.g. `*.md`, `guide/*`.",
    )
    exclude: list[str] = Field(
        default_factory=list, description="Globs of files in ingested folders to leave out."
    )
    max_file_mb: float = Field(
        50.0,
        gt=0,
        description="Files larger than this are refused by ingest, named in the "
        "report, so one stray dump cannot stall a batch.",
    )
    pdf_tables: bool = Field(
        True,
        description="Find tables on PDF pages that look tabular (pdfplumber) and store them "
        "as Markdown tables with their header row; False keeps the plain page text.",
    )
    ocr: Literal["auto", "off"] = Field(
        "auto",
        description="PDF pages without a text layer (scans): `auto` reads them with tesseract "
        "when it is installed (Debian: tesseract-ocr), `off` only names them in the report.",
    )
    ocr_languages: str = Field(
        "eng",
        pattern=r"^[A-Za-z_]+(\+[A-Za-z_]+)*$",
        description="Tesseract language packs for OCR, e.g. `eng` or `eng+deu`.",
    )

    @model_validator(mode="after")
    def _check_sizes(self) -> IngestSettings:
        if self.child_overlap_tokens >= self.child_chunk_tokens:
            raise ValueError("child_overlap_tokens must be smaller than child_chunk_tokens")
        if self.parent_chunk_tokens < self.child_chunk_tokens:
            raise ValueError("parent_chunk_tokens must be at least child_chunk_tokens")
        return self


class RetrievalSettings(BaseModel):
    """From a question to the passages the LLM reads: retrievers, fusion, reranking, the
    confidence gate and the context budget."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    retrieve_n: int = Field(50, ge=1, description="Candidates taken from each retriever.")
    top_k: int = Field(5, ge=1, description="Passages kept after fusion/rerank for the LLM.")
    fusion: Fusion = Field(
        # `rag eval retrieval`, SciFact, tuned on train / reported on test (nDCG@10): alpha blend
        # 0.7244 / 0.7304 against RRF 0.7124 / 0.7156 at its best k; BM25 0.6763, dense 0.6579.
        Fusion.ALPHA,
        description="How dense and BM25 results combine (or which one alone).",
    )
    exact_search_limit: int = Field(
        20_000,
        ge=0,
        description="A filtered dense search over at most this many chunks is exact (brute "
        "force over their vectors); a larger subset over-fetches from the index and filters.",
    )
    hnsw_max_neighbors: int = Field(
        16,
        ge=2,
        description="HNSW graph degree (M) of new collections: more links, better recall, more "
        "memory. Fixed when a collection is created; `rag eval index` measures it.",
    )
    hnsw_ef_construction: int = Field(
        100,
        ge=2,
        description="Candidates HNSW weighs while linking each new vector (fixed at creation).",
    )
    hnsw_ef_search: int = Field(
        # `rag eval index`, SciFact queries, recall@10 against exact kNN at M = 16: 0.995 (100)
        # and 1.000 (200) at 12,429 chunks, but 0.9855 (100) and 0.9915 (200) at 50,000
        # vectors; 200 costs ~0.4 ms more per query (eval/results/scifact/diagnostics/index).
        200,
        ge=1,
        description="Candidates HNSW explores per query (at least the results asked for); "
        "applied to existing collections too. `rag eval index` measures recall against it.",
    )
    bm25_k1: float = Field(1.2, ge=0.0, description="BM25 term-frequency saturation.")
    bm25_b: float = Field(0.75, ge=0.0, le=1.0, description="BM25 length normalisation.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal Rank Fusion constant.")
    alpha: float = Field(
        # SciFact train nDCG@10 is flat for 0.3-0.6 (0.7225-0.7244, best 0.4) and falls off on
        # both sides (0.7: 0.7076); 0.5 sits mid-plateau, so it is less tied to one corpus.
        0.5,
        ge=0.0,
        le=1.0,
        description="Weight of the dense score in the `alpha` blend.",
    )
    query_expansion: Literal["none", "hyde", "multi"] = Field(
        "none",
        description="Extra queries written by the LLM before retrieval: `hyde` a hypothetical "
        "answer passage, `multi` paraphrases; their rankings are RRF-fused. Costs an LLM call.",
    )
    multi_query_count: int = Field(
        3, ge=1, le=8, description="Paraphrases written when query_expansion = multi."
    )
    rerank: bool = Field(
        True, description="Rerank fused candidates with a cross-encoder when one is available."
    )
    reranker_model: str | None = Field(
        None,
        description="Cross-encoder: a local sentence-transformers folder or a hub name (needs "
        "internet and HF_HUB_OFFLINE=0). Unset: the one `rag tune` trained for the collection, "
        "if any; otherwise the fused order is kept (and the log says so).",
    )
    rerank_depth: int | None = Field(
        None,
        ge=1,
        description="Fused candidates the cross-encoder scores (cost grows with it). None: "
        "the depth the tuned model's validation chose (its card), else all `retrieve_n`.",
    )
    rerank_max_length: int = Field(
        192, ge=32, description="Tokens of query + passage the cross-encoder reads."
    )
    rerank_batch_size: int = Field(32, ge=1, description="Pairs scored per cross-encoder batch.")
    rerank_backend: Literal["auto", "torch", "onnx-int8"] = Field(
        "auto",
        description="How the cross-encoder runs: PyTorch, or the int8 ONNX copy `rag tune` "
        "exports beside a model it trains (onnxruntime). 'auto': what the model's card chose "
        "on validation (the faster one whose quality held), else PyTorch.",
    )
    min_rerank_score: float | None = Field(
        None,
        description="With a cross-encoder: below this best score (a logit) retrieval retries "
        "keyword-only once, then abstains. None: the tuned model's own threshold from its card "
        "(the lowest best score among its validation questions: a listwise loss fixes no "
        "scale), else 0 (even odds for a model trained with a binary loss).",
    )
    context_token_budget: int = Field(
        # eval/results/aragog/budget chose 256 when the first passage could take all of it
        # (there, 512 had less supported citations, before the support check existed). With
        # passages capped (passage_token_limit) the budget buys more passages, not a wider
        # first one: on ARAGOG's 30 sampled questions 512/192 puts half or more of the
        # reference answer's words before the model for 22 against 12 at 256 uncapped
        # (eval/results/context, which also has the answer run).
        512,
        ge=128,
        description="Tokens of passages the LLM reads, counted by the LLM's own tokenizer; "
        "at CPU prefill speed (50-100 tok/s for the 1.5B model on 2 cores) this is the main "
        "latency knob.",
    )
    passage_token_limit: int | None = Field(
        # About a child chunk (192 of the embedder's tokens): the window keeps the matched
        # child whole and little around it, so the next hits fit.
        192,
        ge=32,
        description="The most tokens one passage may take of context_token_budget: the window "
        "around the child that matched. Smaller lets more of the top_k hits in; None (or a limit "
        "of context_token_budget or more, the only way to say it in the environment or the "
        "config file) lets the best hit's parent fill the budget.",
    )
    min_dense_similarity: float = Field(
        # `rag eval scores` (eval/results/*/diagnostics/scores): the highest value that keeps
        # every answerable question of both sets measured (ARAGOG 98/98, SciFact 300/300, whose
        # lowest is 0.348). It refuses 86 of 107 off-domain questions asked of SciFact (0.25
        # refused 9) and leaves the 9 near-domain GLM questions to the LLM. Keeping 95 % instead
        # (0.44) cost answers to short questions: the fixture's "When can't I get tools?"
        # scores 0.36. A wrong refusal loses an answer; a wrong pass costs one LLM call, and
        # the LLM can still abstain.
        0.34,
        ge=-1.0,
        le=1.0,
        description="Abstain when the best dense cosine similarity is below this (and word "
        "coverage is below min_word_coverage): the documents are unlikely to hold the answer. "
        "A collection calibrated by `rag calibrate` (run by `rag ingest`) uses its own.",
    )
    min_word_coverage: float = Field(
        # Used until `rag calibrate` (which `rag ingest` runs) fits the collection: calibrated
        # values came out at 0.36 on docs/ and 0.37 on the ARAGOG papers (5 % of their
        # off-topic questions reach that; eval/results/abstention/). Uncalibrated, the gate
        # errs towards refusing.
        0.75,
        ge=0.0,
        le=1.0,
        description="Let a question through below min_dense_similarity when the passages "
        "hold this share of its words, each weighted by its rarity in the collection (idf): "
        "short vague questions score a low cosine. A calibrated collection uses its own.",
    )

    abstain_text: str = Field(
        "The documents do not answer this.",
        description="What the app says when the documents hold no answer.",
    )
    min_support: float = Field(
        # `rag eval support` (eval/results/support-check/calibration): on 74 hand-labelled
        # ARAGOG answer sentences, the lowest threshold whose supported verdicts are right 90 %
        # of the time on the dev half was 0.736 (test half: precision 0.81, recall 1.0, against
        # 0.68 and 1.0 at the 0.5 used before). With 16 sentences of the next run added (90),
        # dev gives 0.687, and on the test half 0.687 and 0.73 agree (0.77, 1.0); 0.73 stays.
        0.73,
        ge=0.0,
        le=1.0,
        description="A sentence whose support score (chain/support.py) is below this is "
        "unsupported by the passages it cites.",
    )
    unsupported_sentences: Literal["flag", "drop"] = Field(
        "flag",
        description="What happens to an unsupported or uncited sentence: flag keeps it, "
        "marked; drop removes it. A reply with no supported sentence is withheld either way.",
    )
    min_subject_share: float = Field(
        # eval/results/passing: the papers 97 of ARAGOG's 98 questions come from hold their
        # rarest name in the title or in >= 12 % of their children; the GLM-130B reply that
        # got through cites a paper holding it in 3 %. Over 354 stored replies, 0.05 to 0.2
        # withhold the same ones.
        0.1,
        ge=0.0,
        le=1.0,
        description="Withhold a reply that has an unsupported or uncited sentence when the "
        "documents it cites hold the question's subject (its rarest name) in fewer than this "
        "share of their chunks and not in their titles: they mention it in passing, and the "
        "unbacked part is the model's own (retrieval/coverage.py `passing_mentions`). 0: off.",
    )
    show_conflicts: bool = Field(
        True,
        description="Quote after the answer a sentence of another document read that gives "
        "other figures for what an answer sentence states (chain/conflicts.py), so the user "
        "sees that the documents disagree.",
    )
    conflict_similarity: float = Field(
        0.7,
        ge=0.0,
        le=1.0,
        description="How close in meaning (bi-encoder cosine) such a sentence must be to the "
        "answer sentence to count as saying otherwise about the same thing.",
    )
    citation_grammar: bool = Field(
        True,
        description="On the local llama.cpp backend, constrain decoding so every sentence "
        "ends with valid [n] citations, or the reply is exactly the abstain sentence "
        "(chain/grammar.py). OpenAI-compatible endpoints are checked after the fact only.",
    )
    responds_check: bool = Field(
        True,
        description="Ask the LLM, after the support check, whether the reply gives what the "
        "question asks for (chain/responds.py); one that does not is withheld. Costs one "
        "short extra LLM call per shown answer (on an endpoint, one more request).",
    )
    min_responds: float = Field(
        # eval/results/responds/measure.py: on 70 answers shown to ARAGOG questions and 70
        # replies to another question about the same paper, Qwen2.5-Coder 1.5B's P(yes) keeps
        # 68 of the answers at 0.2 (the 2 refused do not answer: "The hyper-parameters ... are
        # given in Table 2") and stops a third of the others.
        0.2,
        ge=0.0,
        le=1.0,
        description="Withhold a reply when the LLM's probability that it answers the question "
        "is below this (an endpoint's plain yes or no counts as 1 or 0).",
    )
    redraws: int = Field(
        # eval/results/redraw: on ARAGOG two redraws took answered from 25 to 27 of 30, kept
        # all 9 GLM-130B questions refused and hand-label support at 0.89 (0.85 before)
        2,
        ge=0,
        le=4,
        description="When the checks stop a reply, or flag a sentence of it, sample up to this "
        "many more replies to the same prompt (at `redraw_temperature`) and use the first "
        "backed throughout, else the one that got furthest; each costs one more generation "
        "(the prompt is reused). Not when the model itself said the documents do not answer.",
    )
    redraw_temperature: float = Field(
        0.7,
        ge=0.0,
        le=2.0,
        description="Sampling temperature of a redraw: warm enough that it is not the same reply.",
    )
    quote_withheld: bool = Field(
        True,
        description="When the checks withhold a reply that cited passages, show instead the "
        "sentence of a cited document closest to the question, quoted and cited, if it names "
        "the question's key terms (or its document does) and passes the responds check "
        "(chain/quote.py); otherwise the chain abstains as before.",
    )


class ChatPageSettings(BaseModel):
    """The chat page's queue (`rag serve`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ui_concurrency_limit: int = Field(
        4,
        ge=1,
        description="Questions the chat page works on at once; the rest wait in Gradio's queue. "
        "A local llama.cpp model still writes one answer at a time (retrieval overlaps).",
    )
    ui_queue_size: int = Field(
        64,
        ge=1,
        description="Questions that may wait in the queue; beyond this the page says the "
        "server is busy instead of making users wait without end.",
    )


class TuningSettings(BaseModel):
    """Domain tuning (`rag tune`): how the bi-encoder and cross-encoder are trained."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    questions_per_chunk: int = Field(
        2,
        ge=1,
        le=8,
        description="Questions `rag questions generate` asks the LLM for per sampled chunk: "
        "one call reads the chunk once (prefill is most of its cost on a CPU) for all of them.",
    )
    questions_round_trip_k: int = Field(
        10,
        ge=1,
        description="A generated question is kept only if hybrid search ranks its source chunk "
        "(or a chunk of the same section) in this many results: answerable from its source and "
        "specific to it.",
    )
    tune_candidates: int = Field(
        30, ge=2, description="Hybrid results per question that hard negatives are drawn from."
    )
    tune_negatives: int = Field(
        7, ge=1, description="Hard negatives per labelled question (with its positives)."
    )
    tune_validation_share: float = Field(
        0.1,
        gt=0.0,
        lt=1.0,
        description="Share of the labelled questions held out for validation and early stopping.",
    )
    tune_max_length: int = Field(
        160,
        ge=32,
        description="Tokens of question + passage while training; near the child chunk size "
        "so little is cut, and short enough to train at CPU speed.",
    )
    tune_frozen_layers: int = Field(
        0,
        ge=0,
        description="Lower transformer layers (and embeddings) kept frozen: cheaper backward "
        "passes. 0 trains everything: on SciFact's validation questions that ranked better "
        "(0.68 against 0.61 with 2 frozen) for 1.3x the training time.",
    )
    tune_batch_size: int = Field(
        16,
        ge=1,
        description="Cross-encoder training pairs per step (a listwise loss takes whole "
        "questions: about this many pairs' worth).",
    )
    tune_reranker_head: Literal["cls", "mean"] = Field(
        "mean",
        description="Cross-encoder score head: 'mean' = a linear layer on the mean token "
        "vector (the bi-encoder's own pooling, so it starts from meaningful features); 'cls' "
        "= the standard sequence-classification head on [CLS].",
    )
    tune_reranker_init: Path | None = Field(
        None,
        description="Start the cross-encoder from this CrossEncoder folder (an earlier run's "
        "model or checkpoint, to train it further) instead of the bi-encoder with a fresh head.",
    )
    tune_reranker_loss: Literal["bce", "listnet", "lambda"] = Field(
        "listnet",
        description="Cross-encoder loss: pointwise binary cross-entropy, or listwise over "
        "each question's positive and hard negatives (ListNet, LambdaLoss).",
    )
    tune_epochs: int = Field(
        3, ge=1, description="Passes over the labelled pairs (the time budget may stop earlier)."
    )
    tune_learning_rate: float = Field(5e-5, gt=0.0, description="Peak learning rate (AdamW).")
    tune_budget_minutes: float = Field(
        30.0, gt=0.0, description="Wall-time cap on training; the best checkpoint so far is kept."
    )
    tune_seed: int = Field(0, description="Seed for the split, negative sampling and training.")
    tune_keep_worse: bool = Field(
        False,
        description="Install a tuned model even when it does not clearly beat what it would "
        "replace on the validation questions (the base bi-encoder; the fused order, for a "
        "reranker): clearly means the paired bootstrap 95 % interval of its nDCG@10 gain lies "
        "above 0. For experiments: by default such a model is reported and discarded.",
    )
    tune_embedder_batch_size: int = Field(
        32,
        ge=2,
        description="Questions per bi-encoder training step: MultipleNegativesRankingLoss uses "
        "the other questions' passages in the batch as extra negatives, so larger is better "
        "while it fits.",
    )
    tune_embedder_negatives: int = Field(
        1,
        ge=0,
        description="Mined hard negatives per question in bi-encoder training (each costs one "
        "more passage encoding per question per step).",
    )
    tune_embedder_epochs: int = Field(3, ge=1, description="Passes over the labelled questions.")
    tune_embedder_learning_rate: float = Field(
        5e-5, gt=0.0, description="Peak learning rate for the bi-encoder (AdamW)."
    )


class JudgeSettings(BaseModel):
    """The judge LLM of `rag eval answers`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    judge_backend: Literal["llamacpp", "openai", "none"] = Field(
        "llamacpp",
        description="Judge LLM for `rag eval answers` (RAGAS and citation support): the local "
        "model, an OpenAI-compatible endpoint, or none (only the judge-free metrics, abstention "
        "and latency: minutes instead of hours for a prompt or threshold change).",
    )
    judge_model: str | None = Field(
        None,
        description="Judge model (bundled name, .gguf path or endpoint model); None = llm_model.",
    )
    judge_base_url: str | None = Field(
        None, description="Base URL of the judge's OpenAI-compatible endpoint."
    )
    judge_api_key: str | None = Field(
        None, description="API key for the judge endpoint.", repr=False
    )
    judge_max_tokens: int = Field(
        1024, ge=64, description="Maximum tokens per judge reply (RAGAS asks for JSON lists)."
    )
    judge_timeout_s: int = Field(
        1800, ge=1, description="Seconds one RAGAS metric may take per question before NaN."
    )


SECTIONS: dict[str, type[BaseModel]] = {
    "state": StateSettings,
    "models": ModelSettings,
    "ingest": IngestSettings,
    "retrieval": RetrievalSettings,
    "chat_page": ChatPageSettings,
    "tuning": TuningSettings,
    "judge": JudgeSettings,
}
"""The settings' sections, by the TOML table that may hold their keys. A section groups fields
for readers and for the components that take only what they use; the names stay flat (every
field is `RAG_<NAME>` and a top-level TOML key), so a section never changes a setting's name."""


class Settings(
    StateSettings,
    ModelSettings,
    IngestSettings,
    RetrievalSettings,
    ChatPageSettings,
    TuningSettings,
    JudgeSettings,
    BaseSettings,
):
    """Every tunable of rag_app, with the reason for its default, in the sections above."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_", extra="forbid", validate_default=True, frozen=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = config_file()
        if toml is not None:
            sources.append(SectionedToml(settings_cls, toml))
        return tuple(sources)

    def section(self, kind: type[_Section]) -> _Section:
        """The fields of one section as their own frozen object, for a component that should
        see only what it uses."""
        return kind.model_validate({name: getattr(self, name) for name in kind.model_fields})

    def updated(self, **changes: Any) -> Settings:
        """A copy with `changes` checked like any setting (`model_copy` checks nothing): a
        collection name or top-k chosen on the chat page meets the rules a config file does."""
        return type(self).model_validate({**self.model_dump(), **changes})

    # --- derived paths: one place decides the layout of `home` -----------------------------
    @property
    def chroma_dir(self) -> Path:
        return self.home / "chroma"

    @property
    def uploads_dir(self) -> Path:
        """Files added on the chat page, kept so that a document there stays ingestable."""
        return self.home / "uploads" / self.collection

    @property
    def collection_dir(self) -> Path:
        """Per-collection state kept beside Chroma: parents, BM25 index, manifest."""
        return self.home / "collections" / self.collection

    @property
    def feedback_file(self) -> Path:
        """Ratings of the collection's answers on the chat page, one JSON line each."""
        return self.collection_dir / "feedback.jsonl"

    @property
    def users_file(self) -> Path:
        """Who may sign in to the chat page, with their roles (`rag users`)."""
        return self.home / "users.json"

    @property
    def audit_log(self) -> Path:
        """Every change made to a collection from the chat page, one JSON line each."""
        return self.home / "audit.jsonl"


class SectionedToml(TomlConfigSettingsSource):
    """A TOML file whose keys may sit in their section's table: ``[retrieval]`` then
    ``top_k = 3`` reads as ``top_k = 3``. A key in the wrong table, or given twice, is an error
    naming the file, so a moved line cannot silently stop applying."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        self.path = path
        super().__init__(settings_cls, toml_file=path)

    def _read_files(self, files: Any, deep_merge: bool = False) -> dict[str, Any]:
        raw = super()._read_files(files, deep_merge)
        flat = {k: v for k, v in raw.items() if k not in SECTIONS}
        for table, kind in SECTIONS.items():
            for key, value in raw.get(table, {}).items():
                if key not in kind.model_fields:
                    home = next((t for t, k in SECTIONS.items() if key in k.model_fields), None)
                    where = f"it belongs in [{home}]" if home else "no setting has that name"
                    raise ValueError(f"{self.path}: [{table}] {key}: {where}")
                if key in flat:
                    raise ValueError(f"{self.path}: {key} is set twice (also in [{table}])")
                flat[key] = value
        return flat


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment and TOML, read once per process."""
    return Settings()
