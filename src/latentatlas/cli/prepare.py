"""``latentatlas prepare SRC --out CACHE``: images → a memory-mappable image cache."""

from __future__ import annotations

import argparse

from latentatlas.cli import COUNT_MAX, add_io_args, fraction, int_in


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "prepare",
        help="crop and resize a folder of images (or the CelebA layout) into an image cache",
        description="Crop and resize images into a cache directory (uint8 array + manifest). "
        "SRC is a CelebA root (holding img_align_celeba/) or any folder of jpg/png/webp/bmp files.",
    )
    add_io_args(
        p,
        ("src", "SRC", "CelebA root or image folder (searched recursively)"),
        out_metavar="CACHE",
        out_help="cache directory to write",
        overwrite_help="replace an existing cache",
    )
    p.add_argument(
        "--size", type=int_in(8, 4096), default=64, help="side of the square output (default 64)"
    )
    p.add_argument(
        "--crop",
        choices=("auto", "celeba", "center", "none"),
        default="auto",
        help="auto: the CelebA face box for the CelebA layout, else a centred square; "
        "none: squash the whole image (default auto)",
    )
    p.add_argument(
        "--val-fraction",
        type=fraction,
        default=0.1,
        help="held-out share when no usable official partition exists (default 0.1)",
    )
    p.add_argument(
        "--workers", type=int_in(1, 1024), default=None, help="decoding processes (default: cores)"
    )
    p.add_argument(
        "--limit", type=int_in(1, COUNT_MAX), default=None, help="use only the first LIMIT images"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentatlas.data.prepare import prepare

    manifest = prepare(
        args.src,
        args.out,
        size=args.size,
        crop=args.crop,
        val_fraction=args.val_fraction,
        workers=args.workers,
        limit=args.limit,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    counts = manifest["split"]["counts"]
    print(
        f"wrote {args.out}: {manifest['n']} images at {args.size}x{args.size} "
        f"({', '.join(f'{k} {v}' for k, v in counts.items())}), "
        f"{len(manifest['skipped'])} skipped"
    )
    return 0
