"""``latentatlas sample MODEL STORE --generator mvn --n 64 --out DIR``."""

from __future__ import annotations

import argparse
import json

from latentatlas.cli import (
    add_io_args,
    add_model_args,
    add_verify_flags,
    int_in,
    model_spec,
    seed,
)
from latentatlas.generators.registry import (
    GENERATOR_NAMES,
    LITERATURE_NAMES,
    PRIOR_NAMES,
    SPATIAL_NAMES,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sample",
        help="fit a generator on a store, sample z-points and decode them to an image grid",
        description="Fit a generator on the train z-points of STORE, draw --n z-points, decode "
        "them with MODEL's decoder; writes grid.png, z.npy, the fitted generator and "
        "sample.json under --out.",
    )
    add_model_args(p)
    add_io_args(p)
    p.add_argument(
        "--generator",
        default="mvn",
        choices=(*GENERATOR_NAMES, *SPATIAL_NAMES, *PRIOR_NAMES, *LITERATURE_NAMES),
        help="default mvn (spatial: for a store with a C x H x W latent shape)",
    )
    p.add_argument("--n", type=int_in(1, 10000), default=64, help="samples (default 64)")
    p.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    p.add_argument(
        "--params",
        default=None,
        metavar="JSON",
        help="generator hyper-parameters, e.g. '{\"n_components\": 20}'",
    )
    p.add_argument(
        "--where",
        default=None,
        metavar="COND",
        help="fit on the z-points whose attributes match, e.g. 'Smiling=1,Eyeglasses=0' "
        "(1 = has it, 0 = lacks it)",
    )
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    add_verify_flags(p, mismatch=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentatlas.core.errors import LatentAtlasError
    from latentatlas.generators.sampling import sample

    try:
        params = json.loads(args.params) if args.params else {}
    except json.JSONDecodeError as e:
        raise LatentAtlasError(f"--params is not valid JSON ({e.msg})") from None
    if not isinstance(params, dict):
        raise LatentAtlasError("--params must be a JSON object")
    try:
        info = sample(
            model_spec(args),
            args.store,
            args.out,
            generator=args.generator,
            n=args.n,
            seed=args.seed,
            params=params,
            device=args.device,
            overwrite=args.overwrite,
            progress=not args.quiet,
            where=args.where,
            verify=args.verify,
            allow_mismatch=args.allow_mismatch,
        )
    except (TypeError, ValueError) as e:  # an unknown hyper-parameter name, or a bad value
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise LatentAtlasError(f"--params: {first}") from None
    from latentatlas.core.open_hint import open_hint

    cond = info.get("where")
    given = f" given {cond['condition']} ({cond['n_train_matching']} train points)" if cond else ""
    print(f"wrote {args.out}/grid.png: {info['n']} samples of {info['class']}{given}")
    print(open_hint(f"{args.out}/grid.png"))
    return 0
