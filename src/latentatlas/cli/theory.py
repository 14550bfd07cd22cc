"""``latentatlas theory --N 256 --b 1.5``: radius of points uniform in [-b, b]^N, theory vs MC."""

from __future__ import annotations

import argparse

from latentatlas.cli import add_io_args, float_in, int_in, seed


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "theory",
        help="uniform-cube radius theory against Monte Carlo (the thin shell)",
        description="For N components independent and uniform in [-b, b]: <R^2> = N b^2/3, "
        "<R> ~ b sqrt(N/3 - 1/15), sigma_R -> b/sqrt(15), relative width ~ 1/sqrt(5N); each "
        "against a Monte Carlo run, for the given N and for N = 2, 3, 10, 32, 256, 1024.",
    )
    p.add_argument("--N", type=int_in(1, 10**5), required=True, dest="dim", help="latent dimension")
    p.add_argument(
        "--b",
        type=float_in(0, 1e6, open_low=True),
        default=1.0,
        help="cube half-width (default 1.0)",
    )
    p.add_argument(
        "--mc",
        type=int_in(100, 10**7),
        default=20000,
        help="Monte Carlo draws per N (default 20000)",
    )
    p.add_argument("--seed", type=seed, default=0, help="Monte Carlo seed (default 0)")
    add_io_args(
        p,
        None,
        out_help="also write DIR/theory.png and theory.json",
        overwrite_help="replace an existing DIR",
        out_required=False,
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentatlas.atlas.theory_report import cube_theory, theory_text, write_theory
    from latentatlas.core import atomic
    from latentatlas.core.open_hint import open_hint

    if args.out:
        atomic.check_new(args.out, args.overwrite)  # before the Monte Carlo, not after
    theory = cube_theory(args.dim, b=args.b, mc=args.mc, seed=args.seed)
    print(theory_text(theory))
    if args.out:
        write_theory(theory, args.out, overwrite=args.overwrite)
        print(f"wrote {args.out}/theory.png and theory.json")
        print(open_hint(f"{args.out}/theory.png"))
    return 0
