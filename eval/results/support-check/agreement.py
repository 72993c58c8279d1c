"""The support check against judged labels: ARAGOG answers the local judge scored for cited-claim
support (`eval/results/refactor-20/aragog-after`, Qwen2.5-Coder 1.5B as judge, one verdict per
cited sentence), re-checked here from their stored passages.

Per answer, the judge's share of supported cited sentences against the check's; the labels are
per answer because the run stored the judge's mean, not its verdicts. Writes agreement.json.

    python eval/results/support-check/agreement.py [--run DIR] [--min-support X]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from eval.answers import latest_records
from rag_app.chain.support import SupportChecker
from rag_app.models.embeddings import get_embedder
from rag_app.types import Passage

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--run", type=Path, default=HERE.parents[1] / "results/refactor-20/aragog-after"
    )
    parser.add_argument("--min-support", type=float, default=0.5)
    args = parser.parse_args()
    checker = SupportChecker(get_embedder("all-MiniLM-L6-v2"), args.min_support)
    rows = []
    for record in latest_records(args.run / "answers.jsonl").values():
        judged = (record.get("scores") or {}).get("citation_support")
        if not record["answerable"] or record["abstained"] or judged is None or math.isnan(judged):
            continue
        passages = [
            Passage(n=p["n"], text=p["text"], source=p["source"]) for p in record["contexts"]
        ]
        checks = [c for c in checker.check(record["answer"], passages) if c.verdict != "uncited"]
        if checks:
            mine = sum(c.verdict == "supported" for c in checks) / len(checks)
            rows.append({"id": record["id"], "judge": judged, "check": mine})
    judge_yes = [r["judge"] >= 0.5 for r in rows]
    check_yes = [r["check"] >= 0.5 for r in rows]
    both = sum(j and c for j, c in zip(judge_yes, check_yes, strict=True))
    result = {
        "run": str(args.run),
        "min_support": args.min_support,
        "answers": len(rows),
        "agree": sum(j == c for j, c in zip(judge_yes, check_yes, strict=True)),
        "precision": both / sum(check_yes) if any(check_yes) else math.nan,
        "recall": both / sum(judge_yes) if any(judge_yes) else math.nan,
        "rows": rows,
    }
    (HERE / "agreement.json").write_text(json.dumps(result, indent=2) + "\n")
    print({k: result[k] for k in ("answers", "agree", "precision", "recall")})


if __name__ == "__main__":
    main()
