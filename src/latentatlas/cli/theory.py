"""``latentatlas theory --N 256 --b 1.5``: radius of points uniform in [-b, b]^N, theory vs MC."""

from __future__ import annotations

import argparse

from latentatlas.cli import int_at_least, positive_float


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "theory",
        help="uniform-cube radius theory against Monte Carlo (the thin shell)",
        description="For N components independent and uniform in [-b, b]: <R^2> = N b^2/3, "
        "<R> ~ b sqrt(N/3 - 1/15), sigma_R -> b/sqrt(15), relative width ~ 1/sqrt(5N); each "
        "against a Monte Carlo run, for the given N and for N = 2, 3, 10, 32, 256, 1024.",
    )
    p.add_argument("--N", type=int_at_least(1), required=True, dest="dim", help="latent dimension")
    p.add_argument("--b", type=positive_float, default=1.0, help="cube half-width (default 1.0)")
    p.add_argument(
        "--mc",
        type=int_at_least(100),
        default=20000,
        help="Monte Carlo draws per N (default 20000)",
    )
    p.add_argument("--seed", type=int_at_least(0), default=0, help="Monte Carlo seed (default 0)")
    p.add_argument(
        "--out", metavar="DIR", default=None, help="also write DIR/theory.png and theory.json"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing DIR")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import math

    from latentatlas.core.errors import LatentAtlasError

    if args.dim < 1:
        raise LatentAtlasError(f"--N must be at least 1, got {args.dim}")
    if not math.isfinite(args.b) or args.b <= 0:
        raise LatentAtlasError(f"--b must be a positive number, got {args.b}")
    if args.mc < 100:
        raise LatentAtlasError(f"--mc must be at least 100, got {args.mc}")

    if args.out:
        from latentatlas.core import atomic

        atomic.check_new(args.out, args.overwrite)  # before the Monte Carlo, not after

    from latentatlas.analysis import theory_table
    from latentatlas.atlas import STANDARD_NS, normalised_radii

    ns = tuple(sorted(set(STANDARD_NS) | {args.dim}))
    try:
        tt = theory_table(Ns=ns, b=args.b, n=args.mc, random_state=args.seed)
    except ValueError as e:
        raise LatentAtlasError(str(e)) from None
    td = tt.to_dict()
    row = next(r for r in td["rows"] if r["N"] == args.dim)
    print(
        f"N = {args.dim}, b = {args.b:g}: radius R = |z| of points uniform in [-b, b]^N, "
        f"theory vs Monte Carlo ({args.mc} points, seed {args.seed})"
    )
    print(f"{'':>12} {'theory':>12} {'Monte Carlo':>12} {'rel. error':>11}")
    for key, label in _LABELS.items():
        print(
            f"{label:>12} {row[f'theory_{key}']:>12.6g} {row[f'mc_{key}']:>12.6g} "
            f"{row[f'relerr_{key}']:>11.2e}"
        )
    print()
    print(tt.to_text())

    if args.out:
        from latentatlas.atlas.figures import shell_figure
        from latentatlas.core import atomic
        from latentatlas.core.html import figure_png
        from latentatlas.core.jsonable import jsonable

        try:
            with atomic.atomic_dir(args.out, overwrite=args.overwrite) as tmp:
                fig = shell_figure(normalised_radii(tt, args.b))
                atomic.write_bytes(tmp / "theory.png", figure_png(fig))
                atomic.write_json(
                    tmp / "theory.json",
                    jsonable(td | {"b": args.b, "mc": args.mc, "seed": args.seed}),
                )
        except FileExistsError:
            raise LatentAtlasError(f"{args.out} exists; use --overwrite to replace it") from None
        from latentatlas.core.open_hint import open_hint

        print(f"wrote {args.out}/theory.png and theory.json")
        print(open_hint(f"{args.out}/theory.png"))
    return 0


# ASCII, like TheoryTable.to_text() printed below it.
_LABELS = {"mean_r2": "<R^2>", "mean_r": "<R>", "sigma_r": "sigma_R", "rel_width": "sigma_R/<R>"}
