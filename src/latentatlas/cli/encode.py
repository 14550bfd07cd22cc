"""``latentatlas encode CHECKPOINT CACHE --out STORE``: images → z-points."""

from __future__ import annotations

import argparse

from latentatlas.cli import add_verify_flags, int_at_least


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "encode",
        help="encode an image cache into a z-point store",
        description="Encode every image of CACHE with the encoder of CHECKPOINT into a z-point "
        "store: float32 (n, N) z.npy with ids, split, attributes and a JSON sidecar.",
    )
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="checkpoint file or run directory")
    p.add_argument("cache", metavar="CACHE", help="image cache from `latentatlas prepare`")
    p.add_argument("--out", required=True, metavar="STORE", help="store directory to write")
    p.add_argument(
        "--batch-size", type=int_at_least(1), default=256, help="images per batch (default 256)"
    )
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    p.add_argument("--overwrite", action="store_true", help="replace an existing store")
    add_verify_flags(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentatlas.encode import encode

    store = encode(
        args.checkpoint,
        args.cache,
        args.out,
        batch_size=args.batch_size,
        device=args.device,
        overwrite=args.overwrite,
        progress=not args.quiet,
        verify=args.verify,
    )
    print(f"wrote {args.out}: {store['n']} z-points of dimension {store['latent_dim']}")
    return 0
