"""``latentatlas explore MODEL [STORE] [--port P] [--host H] [--no-browser]``."""

from __future__ import annotations

import argparse
import sys

from latentatlas.cli import add_model_args, add_verify_flags, int_in, model_spec

LOCAL = ("127.0.0.1", "localhost", "::1")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explore",
        help="an interactive latent-space explorer in the browser: click anywhere in a plane "
        "of the z-points and see what the decoder makes there",
        description="Starts a local web server (127.0.0.1 unless --host) and opens the "
        "explorer in a browser. `latentatlas explore celeba64` uses the bundled model and store.",
    )
    add_model_args(p)
    p.add_argument(
        "store",
        nargs="?",
        metavar="STORE",
        help="z-point store directory or (n, N) .npy (default for celeba64: its bundled store)",
    )
    p.add_argument("--port", type=int_in(0, 65535), default=8765, help="port (0: a free one)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; anything else exposes the explorer "
        "to your network)",
    )
    p.add_argument("--no-browser", dest="browser", action="store_false", help="do not open one")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    add_verify_flags(p, mismatch=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentatlas.core.errors import LatentAtlasError
    from latentatlas.explore import load_explorer, serve

    spec = model_spec(args)
    if args.store is None and args.model is None and args.checkpoint != "celeba64":
        raise LatentAtlasError("no STORE given (only the bundled celeba64 brings its own)")
    store = args.store or "celeba64"
    if args.host not in LOCAL:
        print(
            f"latentatlas explore: warning: listening on {args.host}: anyone who can reach "
            "this address can use the explorer (and its decoder)",
            file=sys.stderr,
        )
    explorer = load_explorer(
        spec,
        store,
        args.device,
        verify=args.verify,
        allow_mismatch=args.allow_mismatch,
        model_arg=args.checkpoint or args.model,
        store_arg=store,
    )
    serve(explorer, args.host, args.port, open_browser=args.browser)
    return 0
