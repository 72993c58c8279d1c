"""Does the reranker trained from generated questions tell supported answer sentences from
unsupported ones? (The trust issue's support check leaves it out until this says so.)

For each hand-labelled answer sentence (`eval/data/support-labels.jsonl`, ARAGOG answers), the
cross-encoder's best logit over the passages the sentence cited, against the check's own
support score: ROC AUC of each over all labels, and of their rank average. Usage:

    RAG_HOME=/work/rag-eval python eval/results/aragog-zero-label/support_signal.py
"""

from __future__ import annotations

from pathlib import Path

from eval.support import load_labels, support_scores
from rag_app.config import get_settings
from rag_app.retrieval.rerank import CrossEncoderReranker, load_reranker

LABELS = Path("eval/data/support-labels.jsonl")


def auc(scores: list[float], labels: list[bool]) -> float:
    """Probability that a supported sentence outscores an unsupported one (ties count half)."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0.0] * len(values)
    for rank, i in enumerate(order):
        out[i] = rank / max(1, len(values) - 1)
    return out


def main() -> None:
    from rag_app.models.embeddings import get_embedder

    settings = get_settings().updated(collection="eval-papers")
    statements = load_labels(LABELS)
    labels = [s.supported for s in statements]
    check = support_scores(get_embedder(settings.embedding_model), statements)
    reranker = load_reranker(settings)
    assert isinstance(reranker, CrossEncoderReranker), "no reranker tuned for eval-papers"
    cross = [
        max(float(v) for v in reranker.logits([(s.sentence, p.text) for p in s.passages]))
        for s in statements
    ]
    both = [(a + b) / 2 for a, b in zip(ranks(check), ranks(cross), strict=True)]
    print(f"{len(labels)} labelled sentences, {sum(labels)} supported ({reranker.model_name})")
    for name, scores in (("support check", check), ("cross-encoder", cross), ("rank mean", both)):
        print(f"  {name:14} ROC AUC {auc(scores, labels):.3f}")


if __name__ == "__main__":
    main()
