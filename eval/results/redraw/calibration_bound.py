"""What `min_support` a bootstrap bound on the dev half's precision would choose.

`rag eval support` takes the lowest threshold at which the dev half's precision reaches the
target; on 106 statements a few low-scoring unsupported ones decide that point value (0.246
on the 214 labels). This reads the scores `rag eval support` stored and takes instead the lowest
threshold whose precision, at its 10th percentile over bootstrap resamples of the dev half,
reaches the target, then reports the test half there and at the configured threshold.

    python eval/results/redraw/calibration_bound.py eval/results/redraw/support-calibration
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

from eval.support import Agreement


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="an `eval support --out` folder")
    parser.add_argument("--target", type=float, default=0.9)
    parser.add_argument("--resamples", type=int, default=500)
    parser.add_argument("--quantile", type=float, default=0.1)
    args = parser.parse_args()
    result = json.loads((args.run / "results.json").read_text(encoding="utf-8"))
    dev = [(s["score"], s["supported"]) for s in result["scores"] if s["dev"]]
    test = [(s["score"], s["supported"]) for s in result["scores"] if not s["dev"]]
    rng = random.Random(0)
    resamples = [[rng.choice(dev) for _ in dev] for _ in range(args.resamples)]

    def precision_bound(threshold: float) -> float:
        precisions = sorted(
            p
            for sample in resamples
            if not math.isnan(
                p := Agreement.at(
                    threshold, [s for s, _ in sample], [y for _, y in sample]
                ).precision
            )
        )
        return precisions[int(args.quantile * len(precisions))] if precisions else math.nan

    chosen = next(
        (t for t in sorted({s for s, _ in dev}) if precision_bound(t) >= args.target), None
    )
    rows = {"bound": chosen, "configured": result["configured_min_support"]}
    for name, threshold in rows.items():
        if threshold is None:
            print(f"{name}: no threshold reaches {args.target} at the bound")
            continue
        at = Agreement.at(threshold, [s for s, _ in test], [y for _, y in test])
        print(
            f"{name} {threshold:.3f}: test precision {at.precision:.4f}, recall {at.recall:.4f}, "
            f"unsupported caught {at.unsupported_caught:.4f}"
        )


if __name__ == "__main__":
    main()
