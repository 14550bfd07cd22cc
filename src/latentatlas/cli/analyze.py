"""``latentatlas analyze STORE --out DIR``: the atlas report of a z-point store (or an .npy)."""

from __future__ import annotations

import argparse

from latentatlas.cli import (
    add_io_args,
    add_model_args,
    add_verify_flags,
    float_in,
    int_in,
    model_spec,
    seed,
)


def _half_width(text: str) -> str | float:
    """``auto`` or a bounded positive number (the CLI's one bounds mechanism)."""
    return text if text == "auto" else float_in(0, 1e6, open_low=True)(text)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="analyse where the z-points of a store live; writes an HTML report",
        description="Analyse a z-point distribution (components, correlations, shape, radii, "
        "uniform-cube theory, projections, slices, voids, fragmentation; with --verdict also the "
        "generators' verdict of `latentatlas compare`) and write DIR/index.html (one "
        "self-contained page), DIR/*.png and DIR/summary.json. STORE is a store directory or a "
        "plain .npy file of shape (n, N).",
    )
    add_io_args(
        p,
        ("store", "STORE", "z-point store directory or (n, N) .npy file"),
        out_help="report directory to write",
        overwrite_help="replace an existing DIR",
    )
    p.add_argument(
        "--pairs",
        nargs="+",
        default=[],
        metavar="J1,J2",
        help="component pairs to project and slice, e.g. 30,118 177,242 "
        "(added to the automatically chosen ones)",
    )
    p.add_argument(
        "--b",
        type=_half_width,
        default="auto",
        help="half-width of the uniform cube [-b, b]^N: 'auto' fits it to the radii (default)",
    )
    p.add_argument(
        "--sample", type=int_in(10, 10**7), default=20000, help="artificial points (default 20000)"
    )
    p.add_argument(
        "--prdc-sample",
        type=int_in(10, 10**6),
        default=5000,
        help="real and artificial points for the k-NN manifold metrics (default 5000)",
    )
    p.add_argument(
        "--seed", type=seed, default=0, help="seed of every random step (default 0)"
    )
    p.add_argument(
        "--threads",
        type=int_in(1, 1024),
        default=None,
        help="BLAS threads (default 1: fastest on busy cores, and load-independent numbers)",
    )
    p.add_argument(
        "--verdict",
        metavar="VDIR",
        default=None,
        help="output directory of `latentatlas compare`: adds section 11 with the generators' "
        "verdict (VDIR/verdict.json) and a link to VDIR/index.html",
    )
    p.add_argument(
        "--model",
        metavar="MODEL",
        default=None,
        help="the autoencoder (a checkpoint, run directory, bundled name celeba64, TorchScript "
        "file or package.module:factory): section 10 then decodes points between real z-points "
        "and reports the face-detector rate",
    )
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        default=None,
        help="compute the store's statistics (moments, covariance, radii, Mahalanobis distances, "
        "slice counts) on a Dask cluster: 'local' starts one on this machine, or give a running "
        "scheduler's address (tcp://host:8786; its workers must see STORE at the same path)",
    )
    add_model_args(p, positional=False)
    add_verify_flags(p, mismatch=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentatlas.atlas import parse_pairs, run_atlas
    from latentatlas.core import atomic
    from latentatlas.core.errors import LatentAtlasError
    from latentatlas.data.store import load_store

    try:
        # Parsed before loading so a typo fails at once; ranges are checked against N later.
        pairs = parse_pairs(args.pairs)
    except ValueError as e:
        raise LatentAtlasError(str(e)) from None
    atomic.check_new(args.out, args.overwrite, inputs=(args.store, args.verdict))
    spec = model_spec(args)
    if spec is None:
        store = load_store(args.store, verify=args.verify)
        model = None
    else:  # loaded once, and checked to be the model that encoded the store
        from latentatlas.models.pairing import load_model_and_store

        model, _, store = load_model_and_store(
            spec, args.store, "cpu", verify=args.verify, allow_mismatch=args.allow_mismatch
        )
    try:
        summary = run_atlas(
            store,
            args.out,
            pairs=pairs,
            b=args.b,
            sample=args.sample,
            seed=args.seed,
            progress=not args.quiet,
            overwrite=args.overwrite,
            prdc_sample=args.prdc_sample,
            source=str(args.store),
            threads=args.threads,
            verdict=args.verdict,
            model=model,
            dask=args.dask,
        )
    except FileExistsError:
        raise LatentAtlasError(f"{args.out} exists; use --overwrite to replace it") from None
    except ValueError as e:
        # Library validation errors are one line by contract: show them as the user's error.
        raise LatentAtlasError(str(e).splitlines()[0] if str(e) else repr(e)) from None
    s = summary["settings"]
    print(
        f"wrote {args.out}/index.html ({len(summary['figures'])} figures) and summary.json: "
        f"n = {summary['input']['n']}, N = {summary['input']['N']}, b = {s['b_used']:.4g}"
        f"{' (fitted)' if s['b'] == 'auto' else ''}, origin Mahalanobis distance "
        f"{summary['shape']['origin_mahalanobis']:.4g}"
    )
    from latentatlas.atlas.conclusions import conclusion_lines
    from latentatlas.core.open_hint import open_hint

    for line in conclusion_lines(summary):
        print(f"  {line}")
    frag = summary["fragmentation"]
    if "verdict" in frag:
        print(f"  fragmentation: {frag['verdict']['sentence']}")
    decoded = frag.get("decoded")
    if decoded and "reason" in decoded:
        print(f"  decoded ({decoded['n_pairs']} pairs): {decoded['reason']}")
    elif decoded:
        print(
            f"  decoded ({decoded['n_pairs']} pairs): face rate {decoded['midpoint']:.1%} at "
            f"midpoints, {decoded['endpoints']:.1%} at the real endpoints"
        )
    print(open_hint(f"{args.out}/index.html"))
    return 0
