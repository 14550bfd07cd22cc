"""``latentatlas encode MODEL CACHE --out STORE``: images → z-points."""

from __future__ import annotations

import argparse
import re

from latentatlas.cli import (
    add_io_args,
    add_model_args,
    add_verify_flags,
    int_in,
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
        "--batch-size",
        type=int_in(1, 65536),
        default=256,
        help="images per batch at most (default 256; fewer when --max-memory needs it)",
    )
    p.add_argument(
        "--max-memory",
        type=memory_size,
        default="2GB",
        metavar="SIZE",
        help="peak memory of the process (of the GPU, on a GPU) to stay within, e.g. 2GB, "
        "512MB (default 2GB): the batch is cut to fit, from the memory one image takes",
    )
    p.add_argument(
        "--chunk-rows",
        type=int_in(1, 2**40),
        metavar="K",
        help="write z as chunk files of at most K rows (z/00000.npy …) that workers on other "
        "machines read apart; under torchrun each process writes its own",
    )
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    add_verify_flags(p)
    p.set_defaults(func=run)


UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def memory_size(text: str) -> int:
    """``2GB``, ``512MB``, ``1.5G``, ``100000000`` → bytes (binary units: 1 GB = 2**30 B)."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)(?:I?B)?\s*", text.upper())
    if not m or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(
            f"expected a positive size such as 2GB or 512MB, got {text!r}"
        )
    return int(float(m.group(1)) * UNITS[m.group(2)])


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
        max_memory=args.max_memory,
        chunk_rows=args.chunk_rows,
    )
    if store is None:  # a torchrun rank other than 0: rank 0 reports
        return 0
    print(
        f"wrote {args.out}: {store['n']} z-points of dimension {store['latent_dim']} "
        f"(batches of {store['batch_size']})"
    )
    return 0
