"""``latentatlas demo [--out DIR]``: the whole pipeline on generated images, offline."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run prepare → train → encode → analyze on generated cartoon faces",
        description="Generate cartoon faces (no dataset needed), then prepare, train, encode and "
        "analyze them; everything is written under --out.",
    )
    p.add_argument("--out", default="latentatlas-demo", help="output folder")
    p.add_argument("--images", type=int, default=800, help="generated images (default 800)")
    p.add_argument("--epochs", type=int, default=6, help="training epochs (default 6)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentatlas.demo import run_demo

    summary = run_demo(
        args.out, args.images, args.epochs, args.seed, args.overwrite, progress=not args.quiet
    )
    last = summary["history"][-1]
    print(f"trained {last['epoch']} epochs: val MSE {last['val_mse']:.5f}")
    for key in ("cache", "run", "store", "report"):
        if key in summary:
            print(f"wrote {summary[key]}")
    return 0
