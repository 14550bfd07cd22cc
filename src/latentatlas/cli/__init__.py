"""Command line: ``latentatlas VERB ...``; one module per verb, each a thin layer over the library.

Each verb module defines ``register(subparsers)``; it imports heavy libraries (torch, matplotlib)
inside its ``run`` so that ``--help`` and argument errors stay instant.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import math
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from latentatlas import __version__
from latentatlas.errors import LatentAtlasError

# The generator registry's names (latentatlas.generators.GENERATORS, which imports scikit-learn):
# spelled out here so that --help stays instant; a test keeps the two in step.
GENERATOR_NAMES = ("cube", "normal", "normal-fit", "percomponent", "mvn", "pca", "gmm", "kde")
# The learned priors (latentatlas.generators.PRIORS, torch); a test keeps these in step too.
PRIOR_NAMES = ("flow", "diffusion", "vae2")

VERBS = ("prepare", "train", "encode", "analyze", "theory", "sample", "path", "compare", "demo")


def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``low``, refused at parse time (before any work)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def fraction(text: str) -> float:
    """An argparse type: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text!r}")
    return value


def add_verify_flags(p: argparse.ArgumentParser, mismatch: bool = False) -> None:
    """``--no-verify`` (skip the payload checksums) and, for verbs that pair a checkpoint with a
    store, ``--allow-mismatch``."""
    p.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        help="skip checking the inputs' recorded sha256 checksums (for huge stores)",
    )
    if mismatch:
        p.add_argument(
            "--allow-mismatch",
            action="store_true",
            help="use a store encoded by another model than CHECKPOINT",
        )


class UsageError(Exception):
    """A command line argparse refused (message already prefixed with the verb)."""


class _Parser(argparse.ArgumentParser):
    # argparse prints the whole usage block before its error; every error here is one line.
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="latentatlas",
        description="Map where an autoencoder's data lives in its latent space.",
    )
    parser.add_argument("--version", action="version", version=f"latentatlas {__version__}")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb in VERBS:
        importlib.import_module(f"latentatlas.cli.{verb}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as e:
        print(f"{e} (see --help)", file=sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except LatentAtlasError as e:
        message = str(e)
    except OSError as e:  # a full disk, a read-only mount, a permission, a file in the way
        message = os_error_message(e, getattr(args, "out", None))
    except KeyboardInterrupt:
        print(f"latentatlas {args.verb}: interrupted", file=sys.stderr)
        return 130
    # One line, whatever the library said: the first line carries the reason.
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    print(f"latentatlas {args.verb}: error: {first}", file=sys.stderr)
    return 2


def os_error_message(e: OSError, out: object = None) -> str:
    """``PATH: reason`` for an OSError; the output being written when the error names no file."""
    reason = e.strerror or str(e) or type(e).__name__
    if e.errno == errno.ENOSPC:
        reason = "no space left on device"
    where = e.filename or (f"while writing {out}" if out else "")
    if e.filename2:
        where = f"{where} -> {e.filename2}"
    return f"{where}: {reason}" if where else reason
