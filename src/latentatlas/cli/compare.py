"""``latentatlas compare MODEL STORE --out DIR``: every generator, judged side by side."""

from __future__ import annotations

import argparse

from latentatlas.cli import (
    GENERATOR_NAMES,
    PRIOR_NAMES,
    add_model_args,
    add_verify_flags,
    int_at_least,
    model_spec,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="fit, sample, decode and judge every generator; one verdict table",
        description="Each generator is fitted on the train z-points of STORE, sampled (--n, "
        "--seed), decoded with MODEL, and judged against the held-out z-points: face rate, "
        "classifier two-sample accuracy, Mahalanobis tail, precision/recall/density/coverage, "
        "re-encoding drift, copy distance, spread, MMD test, held-out log-likelihood. Writes "
        "index.html, verdict.json and image grids.",
    )
    add_model_args(p)
    p.add_argument("store", metavar="STORE", help="z-point store directory or (n, N) .npy")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.add_argument(
        "--generators",
        nargs="+",
        choices=(*GENERATOR_NAMES, *PRIOR_NAMES),
        default=None,
        metavar="NAME",
        help=f"any of: {', '.join((*GENERATOR_NAMES, *PRIOR_NAMES))} (default: all but the "
        "slowest learned priors, diffusion and vae2, which take minutes each to fit)",
    )
    p.add_argument(
        "--n", type=int_at_least(20), default=1000, help="samples per generator (default 1000)"
    )
    p.add_argument("--seed", type=int_at_least(0), default=0, help="random seed (default 0)")
    p.add_argument(
        "--where",
        default=None,
        metavar="COND",
        help="fit and judge on the z-points whose attributes match, e.g. 'Smiling=1,Male=0'",
    )
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    add_verify_flags(p, mismatch=True)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentatlas.compare import run_compare

    verdict = run_compare(
        model_spec(args),
        args.store,
        args.out,
        args.generators,
        args.n,
        args.seed,
        args.device,
        args.overwrite,
        progress=not args.quiet,
        verify=args.verify,
        allow_mismatch=args.allow_mismatch,
        where=args.where,
    )
    from latentatlas.metrics.ranking import winner_sentence
    from latentatlas.numbers import fmt
    from latentatlas.report.open_hint import open_hint

    ranking = verdict["ranking"]
    rows = {r["generator"]: r for r in verdict["rows"]}
    width = max(len(name) for name in rows)
    if verdict.get("where"):
        print(
            f"given {verdict['where']}: {verdict['n_train']} train, {verdict['n_heldout']} held out"
        )
    print(
        f"rank  {'generator':<{width}}  face rate  2-sample acc  spread  MMD p  log-lik/dim"
        "  copy dist."
    )
    for name in ranking["order"]:
        r = rows[name]
        mark = f" (= {r['duplicate_of']})" if r.get("duplicate_of") else ""
        print(
            f"{ranking['ranks'][name]:>4}  {name:<{width}}  {r['face_rate']:9.3f}  "
            f"{r['two_sample_accuracy']:12.3f}  {r['spread']:6.3f}  {r['mmd_p']:5.3f}  "
            f"{fmt(r['loglik_per_dim']):>11}  {r['copy_distance']:10.3f}{mark}"
        )
    print(winner_sentence(ranking, verdict["rows"]))
    print(ranking["rule"])
    print(f"wrote {args.out}/index.html and verdict.json")
    print(open_hint(f"{args.out}/index.html"))
    return 0
