"""Would the clear-gain install rule have installed the SciFact zero-label models?

Re-measures, per validation question, the two models `rag tune` installed from generated
questions (before the rule existed) on the same held-out questions: the split is seeded, and
candidates are mined from `beir-scifact`, whose bi-encoder is the untuned one both trainings
started from. Usage (RAG_HOME holding both collections):

    RAG_HOME=.rag-eval python eval/results/scifact-zero-label/install_rule.py
"""

from __future__ import annotations

from pathlib import Path

from rag_app.config import get_settings
from rag_app.models.resolve import resolve_embedder
from rag_app.retrieval.hybrid import HybridRetriever
from rag_app.retrieval.rerank import CrossEncoderReranker, load_reranker, rerank_depth
from rag_app.store import CollectionStore
from rag_app.tuning.cross_encoder import best_use, means, validate
from rag_app.tuning.data import Example, load_labelled, mine_examples, split_questions
from rag_app.tuning.embedder import _per_question
from rag_app.tuning.training import validation_gain

QUESTIONS = Path("eval/results/questions/scifact/generated.jsonl")


def main() -> None:
    from sentence_transformers import SentenceTransformer

    s = get_settings().updated(collection="beir-scifact")
    base = resolve_embedder(s.embedding_model)
    with CollectionStore(s) as store:
        questions = load_labelled(QUESTIONS, store.state.documents().keys())
        _, val_q = split_questions(questions, s.tune_validation_share, s.tune_seed)
        retriever = HybridRetriever.from_store(store)

        def mined(depth: int) -> list[Example]:
            return mine_examples(
                val_q, retriever, store.state, depth, s.tune_negatives, s.tune_seed
            )

        folder = next((s.models_dir / "embedders" / "beir-scifact-zl").iterdir())
        examples = mined(s.tune_candidates)
        base_model = SentenceTransformer(str(base.path), device="cpu", local_files_only=True)
        tuned_model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        before = _per_question(base_model, examples, base, 32)  # same prefixes for both
        after = _per_question(tuned_model, examples, base, 32)
        print(f"bi-encoder ({folder.name}): {validation_gain(after, before).describe()} questions")

        reranker = load_reranker(s)  # as the chat loads it (its card picks the backend)
        assert isinstance(reranker, CrossEncoderReranker), "no reranker tuned for beir-scifact"
        deepest = rerank_depth(s, None)
        depths = [d for d in (10, 20, 30, 50) if d < deepest] + [deepest]
        per_question, _ = validate(reranker.model, mined(deepest), depths, s.rrf_k, 32)
        combine, depth = best_use(means(per_question))
        gain = validation_gain(per_question[f"{combine}@{depth}"], per_question["fused"])
        print(f"reranker ({combine}@{depth}): {gain.describe()} questions")


if __name__ == "__main__":
    main()
