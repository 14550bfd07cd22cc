"""The degradation ladder on the bundled model at full size: does every verdict metric respond?

    python bench/bench_ladder.py [--n 1000] [--judge-n 500] [--face-n 100] [--seed 0]
                                 [--chart ladder.png]

Judges mvn at temperatures 0.25, 0.5, 0.75, 1, 1.5, mvn with only its diagonal and mvn shifted
one sigma along the first principal axis (``latentatlas.verdict.ladder``) exactly as
``latentatlas compare --ladder`` does, with every installed image judge, and prints each
metric's value per rung and whether it passes (``latentatlas.verdict.ladder``). The suite runs
the same check with smaller samples (tests/verdict/test_ladder.py). Needs no dataset.
"""

from __future__ import annotations

import argparse
import time

from latentatlas.core.numbers import fmt
from latentatlas.models.pretrained import celeba64
from latentatlas.verdict.catalogue import BY_KEY
from latentatlas.verdict.compare import judge_ladder, split_for_verdict
from latentatlas.verdict.judges import available_judges
from latentatlas.verdict.ranking import RANKING_METRICS
from latentatlas.verdict.scoring import judging_context


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--judge-n", type=int, default=500)
    parser.add_argument("--face-n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chart", default=None, help="also save the ladder chart (PNG) here")
    args = parser.parse_args()
    t0 = time.perf_counter()
    model, store = celeba64()
    train, held = split_for_verdict(store, args.seed)
    judges = available_judges()
    ctx = judging_context(
        model,
        train,
        held,
        judges=judges,
        judge_n=args.judge_n,
        face_n=args.face_n,
        seed=args.seed,
    )
    ladder = judge_ladder(model, ctx, args.n, args.seed)
    names = [r["generator"] for r in ladder["rows"]]
    print(
        f"n={args.n}, judge n={args.judge_n}, face n={args.face_n}, seed={args.seed}, "
        f"judges: {', '.join(judges)}; {time.perf_counter() - t0:.0f} s"
    )
    width = max(len(BY_KEY[k].label) for k in ladder["checks"]) + 2
    print(f"{'metric':<{width}}" + "".join(f"{n:>14}" for n in names) + "  ranking  ladder")
    ranking = {m.key for m in RANKING_METRICS}
    for key, check in ladder["checks"].items():
        cells = "".join(f"{fmt(check['values'][n]):>14}" for n in names)
        verdict = "passes" if check["passed"] else "FAILS: " + "; ".join(check["failures"])
        print(
            f"{BY_KEY[key].label:<{width}}{cells}  {'yes' if key in ranking else 'no':>7}  "
            f"{verdict}"
        )
    if args.chart:
        from latentatlas.core.html import figure_png
        from latentatlas.verdict.charts import CHART_KEYS, ladder_chart

        keys = [k for k in CHART_KEYS if k in ladder["checks"]]
        with open(args.chart, "wb") as f:
            f.write(figure_png(ladder_chart(ladder["rows"], ladder["checks"], keys)))
        print(f"wrote {args.chart}")


if __name__ == "__main__":
    main()
