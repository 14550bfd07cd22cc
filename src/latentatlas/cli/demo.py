"""``latentatlas demo [--out DIR]``: the whole study on the bundled CelebA model, offline."""

from __future__ import annotations

import argparse

from latentatlas.cli import add_io_args, int_in, seed


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="the atlas, every generator and the verdict on the bundled CelebA model",
        description="Run compare, two plane paths and analyze on the bundled celeba64 model and "
        "z-points; writes everything under --out and prints the atlas's conclusions and the "
        "verdict's winner.",
    )
    add_io_args(
        p,
        None,
        out_metavar="OUT",
        out_help="output folder (default ./latentatlas-demo)",
        out_required=False,
        out_default="latentatlas-demo",
    )
    p.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    p.add_argument(
        "--n", type=int_in(20, 100000), default=300, help="samples per generator (default 300)"
    )
    p.add_argument(
        "--save-generators",
        action="store_true",
        help="also keep the fitted generators under OUT/compare/generators/ (about 30 MB)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentatlas.atlas.demo import run_demo, summary_lines

    result = run_demo(
        args.out,
        seed=args.seed,
        overwrite=args.overwrite,
        progress=not args.quiet,
        n=args.n,
        save_generators=args.save_generators,
    )
    print(f"wrote {result['index']}")
    for line in summary_lines(result):
        print(f"  {line}")
    from latentatlas.core.open_hint import open_hint

    print(open_hint(result["index"]))
    return 0
