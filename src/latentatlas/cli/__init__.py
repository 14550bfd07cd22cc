"""Command line: ``latentatlas VERB ...``; one module per verb, each a thin layer over the library.

Each verb module defines ``register(subparsers)``; it imports heavy libraries (torch, matplotlib)
inside its ``run`` so that ``--help`` and argument errors stay instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from latentatlas import __version__
from latentatlas.errors import LatentAtlasError

# The generator registry's names (latentatlas.generators.GENERATORS, which imports scikit-learn):
# spelled out here so that --help stays instant; a test keeps the two in step.
GENERATOR_NAMES = ("cube", "normal", "normal-fit", "percomponent", "mvn", "pca", "gmm", "kde")

VERBS = ("prepare", "train", "encode", "analyze", "theory", "sample", "path", "compare", "demo")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="latentatlas",
        description="Map where an autoencoder's data lives in its latent space.",
    )
    parser.add_argument("--version", action="version", version=f"latentatlas {__version__}")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb in VERBS:
        importlib.import_module(f"latentatlas.cli.{verb}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LatentAtlasError as e:
        print(f"latentatlas {args.verb}: error: {e}", file=sys.stderr)
        return 2
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as e:
        print(f"latentatlas {args.verb}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"latentatlas {args.verb}: interrupted", file=sys.stderr)
        return 130
