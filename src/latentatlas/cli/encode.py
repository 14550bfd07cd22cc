"""``latentatlas encode MODEL CACHE --out STORE``: images → z-points."""

from __future__ import annotations

import argparse

from latentatlas.cli import (
    add_io_args,
    add_model_args,
    add_verify_flags,
    int_at_least,
    model_spec,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "encode",
        help="encode an image cache into a z-point store",
        description="Encode every image of CACHE with the encoder of MODEL into a z-point "
        "store: float32 (n, N) z.npy with ids, split, attributes and a JSON sidecar.",
    )
    add_model_args(p)
    add_io_args(
        p,
        ("cache", "CACHE", "image cache from `latentatlas prepare`"),
        out_metavar="STORE",
        out_help="store directory to write",
        overwrite_help="replace an existing store",
    )
    p.add_argument(
        "--batch-size", type=int_at_least(1), default=256, help="images per batch (default 256)"
    )
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    add_verify_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentatlas.models.encode import encode

    store = encode(
        model_spec(args),
        args.cache,
        args.out,
        batch_size=args.batch_size,
        device=args.device,
        overwrite=args.overwrite,
        progress=not args.quiet,
        verify=args.verify,
    )
    if store is None:  # a torchrun rank other than 0: rank 0 reports
        return 0
    print(f"wrote {args.out}: {store['n']} z-points of dimension {store['latent_dim']}")
    return 0
