"""Command line: ``latentatlas VERB ...``; one thin module a verb over the library.

A verb module's job is to parse, call one library function and print: it defines
``register(subparsers)``, which adds the verb's arguments (with the shared helpers here:
:func:`add_io_args`, :func:`add_model_args`, :func:`add_verify_flags` and the argparse types),
and ``run(args)``, which turns the arguments into one call of the library's run function for
the verb and prints what it returns. The work, the files written and the text of reports
belong to the library; the verb modules import only its public names, and import them (torch,
matplotlib) inside ``run`` so that ``--help`` and argument errors stay instant.

:func:`main` turns a :class:`~latentatlas.core.errors.LatentAtlasError` or an ``OSError`` into
one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from latentatlas import __version__
from latentatlas.core.errors import LatentAtlasError

if TYPE_CHECKING:
    from latentatlas.models.protocol import ModelSpec

__all__ = [
    "MODEL_HELP",
    "STORE_HELP",
    "VERBS",
    "UsageError",
    "add_common_args",
    "add_io_args",
    "add_model_args",
    "add_verify_flags",
    "build_parser",
    "COUNT_MAX",
    "float_in",
    "fraction",
    "input_paths",
    "int_in",
    "main",
    "model_spec",
    "os_error_message",
    "seed",
]

VERBS = (
    "prepare",
    "train",
    "encode",
    "analyze",
    "theory",
    "sample",
    "path",
    "compare",
    "demo",
    "explore",
)


# The one bounds mechanism of the command line: every numeric option's type is one of these, so
# a value outside its range is a one-line usage error before any work. Bounds keep each value
# where the work it asks for can be done (memory that depends on the value is also estimated
# before the work, where the verb knows the rest of the shape).
def int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def float_in(low: float, high: float, *, open_low: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number in [low, high] (``open_low``: above low)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        below = value <= low if open_low else value < low
        if not math.isfinite(value) or below or value > high:
            where = f"above {low:g}" if open_low else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"must be {where} and at most {high:g}, got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


# Seeds feed numpy's and torch's generators, which take at most 64 bits; 32 is plenty.
seed = int_in(0, 2**32 - 1)
# An upper bound for counts that cost disk, not memory (checked against the free space).
COUNT_MAX = 10**9


def fraction(text: str) -> float:
    """An argparse type: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text!r}")
    return value


STORE_HELP = "z-point store directory or (n, N) .npy"


def add_io_args(
    p: argparse.ArgumentParser,
    source: tuple[str, str, str] | None = ("store", "STORE", STORE_HELP),
    *,
    out_metavar: str = "DIR",
    out_help: str = "output directory",
    overwrite_help: str = "replace an existing --out",
    out_required: bool = True,
    out_default: str | None = None,
) -> None:
    """The input and output block of a verb that writes: the positional input ``source``
    (``(dest, METAVAR, help)``; default a z-point STORE; None: no input), ``--out`` and
    ``--overwrite``; only the help texts differ from verb to verb."""
    if source is not None:
        dest, metavar, help_text = source
        p.add_argument(dest, metavar=metavar, help=help_text)
    p.add_argument(
        "--out",
        required=out_required,
        default=out_default,
        metavar=out_metavar,
        help=out_help,
    )
    p.add_argument("--overwrite", action="store_true", help=overwrite_help)


def add_common_args(p: argparse.ArgumentParser) -> None:
    """The options every verb takes (``build_parser`` adds them to each, so a script can pass
    them to any verb): ``--quiet``, no progress bars."""
    p.add_argument("--quiet", action="store_true", help="no progress bars")


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
            help="use a store encoded by another model than MODEL",
        )


MODEL_HELP = (
    "the autoencoder: a checkpoint file, run directory, bundled name (celeba64), "
    "torchscript:FILE (an archive exporting encode and decode; it runs its own code), diffusers "
    "AutoencoderKL folder, pythae model folder or package.module:factory (imports and runs that "
    "module; see --weights)"
)


def _input_range(text: str) -> tuple[float, float]:
    from latentatlas.models.protocol import parse_input_range

    try:
        return parse_input_range(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_model_args(p: argparse.ArgumentParser, positional: bool = True) -> None:
    """The model spec every verb that loads a model accepts: a positional MODEL (today's
    CHECKPOINT) or ``--model``, plus the options of a ``package.module:factory`` model."""
    if positional:
        # Optional so that `--model SPEC` may take its place; run() insists on exactly one.
        p.add_argument("checkpoint", nargs="?", metavar="MODEL", help=MODEL_HELP)
        p.add_argument("--model", default=None, metavar="SPEC", help="MODEL, given as an option")
    p.add_argument(
        "--weights",
        default=None,
        metavar="FILE",
        help="weights for a package.module:factory model: .safetensors, or a .pt state dict "
        "(loaded with weights_only=True)",
    )
    p.add_argument(
        "--encode-attr",
        default=None,
        metavar="NAME",
        help="the factory model's encode method or sub-module (default: encode, else encoder)",
    )
    p.add_argument(
        "--decode-attr",
        default=None,
        metavar="NAME",
        help="the factory model's decode method or sub-module (default: decode, else decoder)",
    )
    p.add_argument(
        "--input-range",
        type=_input_range,
        default=None,
        metavar="LO,HI",
        help="pixel range the model takes and returns, e.g. --input-range=-1,1 (the = is "
        "needed: argparse reads -1 as an option) (default 0,1; -1,1 for a "
        "diffusers AutoencoderKL)",
    )
    p.add_argument(
        "--image-size",
        type=int_in(1, 16384),
        default=None,
        help="image side the model takes, when it declares no image_size attribute",
    )
    p.add_argument(
        "--trust-pickle",
        action="store_true",
        help="load a pythae folder's custom encoder/decoder pickles (they run code when loaded)",
    )
    p.add_argument(
        "--trust-code",
        action="store_true",
        help="load a TorchScript archive not named torchscript:PATH (it runs the code it holds)",
    )
    p.add_argument(
        "--channels",
        type=int,
        choices=(1, 3),
        default=None,
        help="1 (grey) or 3 (colour), when the model declares no channels attribute",
    )


def model_spec(args: argparse.Namespace) -> ModelSpec | None:
    """The :class:`~latentatlas.models.ModelSpec` of the command line (None: no model given)."""
    from latentatlas.models.protocol import ModelSpec

    given = [v for v in (getattr(args, "checkpoint", None), args.model) if v is not None]
    if len(given) > 1:
        raise LatentAtlasError("give the model once: as MODEL or as --model, not both")
    if not given:
        if hasattr(args, "checkpoint"):
            raise LatentAtlasError("no model given: pass MODEL (a checkpoint, ...) or --model")
        return None
    return ModelSpec(
        given[0],
        weights=args.weights,
        encode_attr=args.encode_attr,
        decode_attr=args.decode_attr,
        input_range=args.input_range,
        image_size=args.image_size,
        channels=args.channels,
        trust_pickle=args.trust_pickle,
        trust_code=args.trust_code,
    )


def input_paths(args: argparse.Namespace) -> list[str]:
    """Every path the command line gives a verb to read: its source, cache, store (a bundled
    name as its folder), verdict, and the files of its model (checkpoint, weights, archive): no
    ``--out`` may be or hold one of them, whatever ``--overwrite`` says."""
    from latentatlas.core.bundled import resolve

    given = {dest: getattr(args, dest, None) for dest in ("src", "cache", "verdict", "store")}
    paths = [str(value) for value in given.values() if value is not None]
    if given["store"] is not None:
        paths.append(str(resolve(given["store"], "store")))
    paths += [str(path) for _, path in getattr(args, "feature_weights", None) or ()]
    if getattr(args, "checkpoint", None) is not None or getattr(args, "model", None) is not None:
        from latentatlas.models import input_paths as model_paths

        paths += model_paths(model_spec(args))
    return paths


class UsageError(Exception):
    """A command line argparse refused (message already prefixed with the verb)."""


class _Parser(argparse.ArgumentParser):
    # argparse prints the whole usage block before its error; every error here is one line.
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message}")

    # A verb's options and positionals in any order (`encode MODEL --weights W CACHE`): plain
    # argparse hands MODEL to the first optional positional only when CACHE stands beside it.
    # The top parser (it has the verbs as subparsers) cannot parse intermixed; its subparser
    # action calls this on the verb's parser, and parse_known_intermixed_args calls it back.
    _intermixing = False

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        if self._subparsers is not None or self._intermixing:
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="latentatlas",
        description="Map where an autoencoder's data lives in its latent space.",
    )
    parser.add_argument("--version", action="version", version=f"latentatlas {__version__}")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb in VERBS:
        importlib.import_module(f"latentatlas.cli.{verb}").register(sub)
    for verb_parser in sub.choices.values():
        add_common_args(verb_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as e:
        print(f"{e} (see --help)", file=sys.stderr)
        return 2
    try:
        if getattr(args, "out", None):
            from latentatlas.core import atomic

            atomic.check_output(args.out, input_paths(args))
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


def run() -> NoReturn:
    """``latentatlas`` and ``python -m latentatlas``: :func:`main`, its return the exit status."""
    code = main()
    if os.environ.get("WORLD_SIZE", "1") != "1":  # one process of a torchrun
        from latentatlas.models.distributed import exit_now

        exit_now(code)
    raise SystemExit(code)


def os_error_message(e: OSError, out: object = None) -> str:
    """``PATH: reason`` for an OSError; the output being written when the error names no file."""
    reason = e.strerror or str(e) or type(e).__name__
    if e.errno == errno.ENOSPC:
        reason = "no space left on device"
    where = e.filename or (f"while writing {out}" if out else "")
    if e.filename2:
        where = f"{where} -> {e.filename2}"
    return f"{where}: {reason}" if where else reason
