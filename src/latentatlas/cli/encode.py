"""``latentatlas encode MODEL CACHE --out STORE``: images → z-points."""

from __future__ import annotations

import argparse

from latentatlas.cli import add_model_args, add_verify_flags, int_at_least, model_spec


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "encode",
        help="encode an image cache into a z-point store",
        description="Encode every image of CACHE with the encoder of MODEL into a z-point "
        "store: float32 (n, N) z.npy with ids, split, attributes and a JSON sidecar.",
    )
    add_model_args(p)
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
