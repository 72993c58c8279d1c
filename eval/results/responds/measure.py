"""Calibrates the responds check (`rag_app/chain/responds.py`) on replies already stored.

Every distinct (question, reply) of the stored ARAGOG runs, in three groups:
- **answers**: replies shown to answerable questions (nearly all respond: a refusal here is a
  cost);
- **other question**: each such question paired with the reply to another question about the
  same paper: true, on-topic, cited, and not an answer, the failure the check is for (no
  labels needed);
- **GLM**: replies shown to the GLM-130B questions the papers do not cover, labelled by hand
  beforehand in `eval/data/responds-labels.jsonl` (does it give what was asked, true or not).

A seeded sample of the first two (`--sample` each) keeps the run to minutes. Scores are kept
in `scores.jsonl` next to this file, keyed by prompt, question and reply, so an interrupted
run continues. `min_responds` is the highest threshold keeping `--keep` of the answers.

    python eval/results/responds/measure.py > eval/results/responds/measure.txt
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from eval.answers import latest_records
from rag_app.chain.prompts import PROMPTS_DIR
from rag_app.chain.responds import ResponseJudge
from rag_app.chain.support import without_markers
from rag_app.config import get_settings
from rag_app.models.embeddings import get_embedder
from rag_app.models.llm import make_chat_model

HERE = Path(__file__).resolve().parent
SCORES = HERE / "scores.jsonl"
LABELS = Path("eval/data/responds-labels.jsonl")
NOTE = " Another document says otherwise"

Pair = tuple[str, str]  # question, reply


def shown_answers() -> dict[Pair, str]:
    """Replies shown to answerable questions (markers removed), each with its first
    passage's source; the latest record per question of every stored ARAGOG run made
    without the check."""
    found: dict[Pair, str] = {}
    for path in sorted(Path("eval/results").rglob("answers.jsonl")):
        if "aragog" not in str(path) or HERE in path.resolve().parents:
            continue  # not this check's own runs: the sample stays the one calibrated on
        latest = latest_records(path)
        for r in latest.values():
            if r["abstained"] or "GLM" in r["question"] or not r.get("contexts"):
                continue
            reply = without_markers(r["answer"].split(NOTE)[0])
            found.setdefault((r["question"], reply), r["contexts"][0]["source"])
    return found


def groups(sample: int, seed: int) -> dict[str, list[tuple[Pair, bool | None]]]:
    answers = shown_answers()
    rng = random.Random(seed)
    by_source: dict[str, list[Pair]] = {}
    for pair, source in answers.items():
        by_source.setdefault(source, []).append(pair)
    mismatched = []
    for (question, _), source in answers.items():
        others = [p for p in by_source[source] if p[0] != question]
        if others:
            mismatched.append((question, rng.choice(others)[1]))
    with LABELS.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    return {
        "answers": [(p, True) for p in rng.sample(sorted(answers), sample)],
        "other question": [(p, False) for p in rng.sample(sorted(mismatched), sample)],
        "GLM": [((r["question"], without_markers(r["reply"])), r["responds"]) for r in rows],
    }


def key(pair: Pair) -> str:
    prompt = (PROMPTS_DIR / "judge_responds.md").read_text(encoding="utf-8")
    return hashlib.sha256("\x00".join([prompt, *pair]).encode()).hexdigest()[:16]


def scored(pairs: list[Pair]) -> dict[str, dict]:
    done: dict[str, dict] = {}
    if SCORES.exists():
        with SCORES.open(encoding="utf-8") as lines:
            done = {row["key"]: row for row in map(json.loads, lines)}
    judge = None
    with SCORES.open("a", encoding="utf-8") as out:
        for index, pair in enumerate(pairs):
            if key(pair) in done:
                continue
            judge = judge or ResponseJudge(make_chat_model(get_settings()))
            started = time.perf_counter()
            row: dict[str, Any] = {"key": key(pair), "p": judge.score(*pair)}
            row["seconds"] = round(time.perf_counter() - started, 3)
            out.write(json.dumps(row) + "\n")
            out.flush()
            done[row["key"]] = row
            print(f"  {index + 1}/{len(pairs)} p={row['p']:.3f}", file=sys.stderr, flush=True)
    return done


def auc(positive: list[float], negative: list[float]) -> float:
    """Mann-Whitney: the share of (positive, negative) pairs ranked right, ties half."""
    wins = sum((p > n) + 0.5 * (p == n) for p in positive for n in negative)
    return wins / (len(positive) * len(negative))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=70)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=float, default=0.97)
    args = parser.parse_args()
    found = groups(args.sample, args.seed)
    done = scored([pair for rows in found.values() for pair, _ in rows])
    p = {g: [done[key(pair)]["p"] for pair, _ in rows] for g, rows in found.items()}
    seconds = [done[key(pair)]["seconds"] for rows in found.values() for pair, _ in rows]
    print(f"{platform.processor() or platform.machine()}, {get_settings().llm_model}")
    print(f"{len(seconds)} replies scored, seconds per score median {statistics.median(seconds)}")
    print(
        f"ROC AUC, answers against other question's: {auc(p['answers'], p['other question']):.3f}"
    )
    answers = sorted(p["answers"])
    threshold = answers[int(np.floor(len(answers) * (1 - args.keep)))]
    print(f"highest threshold keeping {args.keep:.0%} of answers: {threshold:.3f}")
    glm = [(label, s) for (_, label), s in zip(found["GLM"], p["GLM"], strict=True)]
    for t in sorted({0.1, 0.2, 0.25, 0.3, 0.35, 0.5, round(threshold, 3)}):
        kept = {g: float(np.mean([s >= t for s in scores])) for g, scores in p.items()}
        glm_no = [s >= t for label, s in glm if not label]
        print(
            f"  at {t:.3f}: answers kept {kept['answers']:.3f}, other question's kept "
            f"{kept['other question']:.3f}, GLM labelled yes kept "
            f"{np.mean([s >= t for label, s in glm if label]):.3f}, labelled no kept "
            f"{sum(glm_no)}/{len(glm_no)}"
        )
    print("\nanswers scored lowest:")
    for (pair, _), s in sorted(
        zip(found["answers"], p["answers"], strict=True), key=lambda x: x[1]
    )[:6]:
        print(f"  {s:.3f} | {pair[0][:70]} | {pair[1][:110]}")
    print("\nGLM replies labelled not answering:")
    for (pair, label), s in zip(found["GLM"], p["GLM"], strict=True):
        if not label:
            print(f"  {s:.3f} | {pair[0][:70]} | {pair[1][:110]}")
    compare_signals(found, p)


def compare_signals(
    found: dict[str, list[tuple[Pair, bool | None]]], p: dict[str, list[float]]
) -> None:
    """P(yes) against the bi-encoder's question-reply cosine (free: no LLM call) and their
    mean, by AUC and over random halvings of the sample: a threshold keeping all but one of
    the dev half's answers, applied to the test half."""
    encoder = get_embedder(get_settings().embedding_model)
    cosine = {}
    for group, rows in found.items():
        questions = np.vstack([encoder.encode_query(q) for (q, _), _ in rows])
        replies = encoder.encode_passages([r for (_, r), _ in rows])
        cosine[group] = list(np.sum(questions * replies, axis=1).astype(float))
    mean = {g: [(a + b) / 2 for a, b in zip(p[g], cosine[g], strict=True)] for g in p}
    rng = np.random.default_rng(0)
    print("\nsignal | AUC | test answers kept | test other question's kept (200 halvings)")
    for name, scores in (("P(yes)", p), ("cosine", cosine), ("mean", mean)):
        answers, others = np.array(scores["answers"]), np.array(scores["other question"])
        kept = []
        for _ in range(200):
            a, o = rng.permutation(len(answers)), rng.permutation(len(others))
            half = len(a) // 2
            threshold = np.sort(answers[a[:half]])[1]
            kept.append(
                (np.mean(answers[a[half:]] >= threshold), np.mean(others[o[half:]] >= threshold))
            )
        got = np.mean(kept, axis=0)
        print(f"  {name} | {auc(list(answers), list(others)):.3f} | {got[0]:.3f} | {got[1]:.3f}")


if __name__ == "__main__":
    main()
