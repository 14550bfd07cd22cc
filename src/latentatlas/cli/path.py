"""``latentatlas path MODEL STORE --out DIR (--plane J1,J2 | --between ID1 ID2)``."""

from __future__ import annotations

import argparse
import math

from latentatlas.cli import (
    add_io_args,
    add_model_args,
    add_verify_flags,
    int_in,
    model_spec,
)


def _floats(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
    return values


def _point(text: str) -> list[float]:
    values = _floats(text)
    if len(values) != 2:
        raise argparse.ArgumentTypeError(f"expected two numbers X,Y, got {text!r}")
    return values


def _radius(text: str) -> list[float]:
    values = _floats(text)
    if len(values) not in (1, 2) or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"expected one or two positive radii, got {text!r}")
    return values


def _pair(text: str) -> tuple[int, int]:
    parts = text.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError(
            f"expected two component indices like 30,118, got {text!r}"
        )
    return int(parts[0]), int(parts[1])


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "path",
        help="decode z-points along a path: a segment or circle in a coordinate plane, or an "
        "interpolation between two real z-points",
        description="Plane paths move two components and hold the rest at --base; the default "
        "segment runs from base - 3 sigma to base + 3 sigma in both components, the default "
        "circle goes round the base at 2 sigma (sigma: each component's standard deviation). "
        "Writes strip.png, z.npy, path.json under --out.",
    )
    add_model_args(p)
    add_io_args(p)
    p.add_argument(
        "--kind",
        choices=("segment", "circle", "lerp", "slerp"),
        default=None,
        help="default: segment with --plane, lerp with --between",
    )
    # A plane path or an interpolation, never both: a second flag must not be silently ignored.
    which = p.add_mutually_exclusive_group()
    which.add_argument("--plane", type=_pair, metavar="J1,J2", help="the two components to move")
    which.add_argument("--between", nargs=2, metavar="ID", help="two image ids of the store")
    p.add_argument("--base", default="centroid", help="centroid (default) or an image id")
    p.add_argument(
        "--start", type=_point, metavar="X,Y", help="segment start (default base - 3 sigma)"
    )
    p.add_argument("--end", type=_point, metavar="X,Y", help="segment end (default base + 3 sigma)")
    p.add_argument("--radius", type=_radius, metavar="R[,R2]", help="circle radius or radii")
    p.add_argument(
        "--steps", type=int_in(2, 10000), default=12, help="points on the path (default 12)"
    )
    p.add_argument(
        "--frame",
        choices=("components", "principal"),
        default="components",
        help="principal: --plane names principal axes (0 = largest variance), not components",
    )
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    add_verify_flags(p, mismatch=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentatlas.core.errors import LatentAtlasError
    from latentatlas.generators.sampling import path

    kind = args.kind or ("lerp" if args.between else "segment")
    # Options of another kind of path would be silently ignored: refuse them before any work.
    applies = {
        "--plane": kind in ("segment", "circle"),
        "--between": kind in ("lerp", "slerp"),
        "--start": kind == "segment",
        "--end": kind == "segment",
        "--radius": kind == "circle",
    }
    for flag, ok in applies.items():
        if getattr(args, flag[2:]) is not None and not ok:
            raise LatentAtlasError(f"{flag} does not apply to a {kind} path")
    radius = args.radius[0] if args.radius and len(args.radius) == 1 else args.radius
    info = path(
        model_spec(args),
        args.store,
        args.out,
        kind=kind,
        pair=args.plane,
        between=args.between,
        base=args.base,
        start=args.start,
        end=args.end,
        radius=radius,
        steps=args.steps,
        device=args.device,
        overwrite=args.overwrite,
        verify=args.verify,
        allow_mismatch=args.allow_mismatch,
        frame=args.frame,
    )
    from latentatlas.core.open_hint import open_hint

    print(f"wrote {args.out}/strip.png and labelled.png: {info['steps']} points, {kind}")
    print(open_hint(f"{args.out}/labelled.png"))
    return 0
