"""Property-based fuzzing of the command line: for any verb, any subset of its options and any
values (huge, negative, NaN, non-numbers, odd paths, symlink loops, the installed package),
``latentatlas.cli.main`` either exits 2 with exactly one line on stderr, or accepts the command.

Each example is a verb's valid command line with some of its inputs swapped for odd paths and up
to three of its options added with odd values; the options come from the parser itself, so a new
option is fuzzed without being listed here.
Where each verb's work starts (loading its model, or the run itself) a stub stops it: every
example goes through the argument, input and output checks (milliseconds; no model is built, no
server started), which is where a bad command line must be stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
from pathlib import Path

import pytest
from faults import one_line_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import latentatlas
from latentatlas.cli import build_parser, main

# Where each verb's work starts, once its arguments and outputs are checked: loading the model
# (sample, path, compare, explore, encode, analyze --model), or the run itself (a stub here).
WORK = (
    "latentatlas.atlas.run_atlas",
    "latentatlas.atlas.demo.run_demo",
    "latentatlas.atlas.theory_report.cube_theory",
    "latentatlas.data.prepare._decode_all",
    "latentatlas.models.encode.load_latent_model",
    "latentatlas.models.pairing.load_model_and_store",
    "latentatlas.models.train._train",
    "latentatlas.verdict.compare.load_model_and_store",
)

NASTY = [
    "0",
    "-1",
    "1",
    "2",
    "65536",
    "70000",
    "1e23",
    "100000000000000000000000",
    "1e400",
    "-0.0",
    "nan",
    "NaN",
    "inf",
    "²",
    "",
    " ",
    "0,1",
    "1,2,3",
    "-1,1",
    "auto",
    '{"temperature": -1}',
    '{"temperature": NaN}',
    '{"attribute_names": null}',
    "[]",
    "Smiling=1",
    "x" * 300,
]


class Reached(Exception):
    """The verb's arguments passed every check and its work would start."""


def _reached(*args, **kwargs):
    raise Reached


def _options(parser: argparse.ArgumentParser) -> dict[str, list[argparse.Action]]:
    """Each verb's positional and optional actions, read from the parser."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {verb: p._actions for verb, p in sub.choices.items()}


@st.composite
def command_lines(draw, verbs: dict, bases: dict, paths: list[str]) -> list[str]:
    """A verb's valid base command line, with some inputs swapped for odd paths and a few of
    its options (any of them, from the parser) added with odd values."""
    verb = draw(st.sampled_from(sorted(verbs)))
    odd = st.one_of(st.sampled_from(paths), st.sampled_from(NASTY))
    argv = [verb, *(draw(odd) if draw(st.integers(0, 2)) == 0 else a for a in bases[verb])]
    optional = [a for a in verbs[verb] if a.option_strings and a.dest != "help"]
    for action in draw(st.lists(st.sampled_from(optional), max_size=3)):
        flag = draw(st.sampled_from(action.option_strings))
        if action.nargs == 0:
            argv.append(flag)
        elif action.choices is not None and draw(st.booleans()):
            argv += [flag, str(draw(st.sampled_from(list(action.choices))))]
        else:
            n = action.nargs if isinstance(action.nargs, int) else draw(st.integers(1, 2))
            argv += [flag, *(draw(odd) for _ in range(n))]
    return argv


def test_every_command_line_is_one_error_line_or_accepted(
    tiny_cache: Path, tiny_run: Path, gauss_store: Path, image_folder: Path, tmp_path: Path
) -> None:
    (tmp_path / "loop").symlink_to("loop")
    package = Path(latentatlas.__file__).resolve().parent
    paths = [
        str(tiny_cache),
        str(tiny_run),
        str(gauss_store),
        str(image_folder),
        "celeba64",
        "torchscript:model.ts",
        "pkg.mod:make",
        str(tmp_path / "loop"),
        str(tmp_path / "absent"),
        str(package / "out"),
        "out",
        ".",
    ]
    run, cache, store, images = str(tiny_run), str(tiny_cache), str(gauss_store), str(image_folder)
    bases = {
        "prepare": [images, "--out", "out"],
        "train": [cache, "--out", "out"],
        "encode": [run, cache, "--out", "out"],
        "analyze": [store, "--out", "out"],
        "theory": ["--N", "8"],
        "sample": [run, store, "--out", "out"],
        "path": [run, store, "--out", "out", "--plane", "0,1"],
        "compare": [run, store, "--out", "out"],
        "demo": ["--out", "out"],
        "explore": [run, store],
    }
    parser = build_parser()
    verbs = _options(parser)
    assert set(bases) == set(verbs)
    outcomes = {"accepted": 0, "refused": 0}

    @settings(
        max_examples=300,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(argv=command_lines(verbs, bases, paths))
    def check(argv: list[str]) -> None:
        verb = f"latentatlas {argv[0]}"
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                rc = main(argv)
            except Reached:
                rc = 0
            except SystemExit as e:  # --help, --version
                rc = e.code
        if rc == 2:
            # Progress bars aside, as a terminal shows them; argparse's "unrecognized arguments"
            # comes from the top-level parser ("latentatlas: error: ...").
            text = err.getvalue().replace("latentatlas: error:", f"{verb}: error:")
            one_line_error(text, argv[0])
            outcomes["refused"] += 1
        else:
            assert rc == 0, (argv, rc, err.getvalue())
            outcomes["accepted"] += 1

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)  # relative outputs ("out", ".") land here
        mp.setattr("latentatlas.cli.build_parser", lambda: parser)  # built once, reused
        # Every module first: one imported while another is patched would keep the stub.
        for target in WORK:
            importlib.import_module(target.rsplit(".", 1)[0])
        for target in WORK:
            mp.setattr(target, _reached)
        check()
    assert outcomes["refused"] > 0 and outcomes["accepted"] > 0, outcomes
    assert not (package / "out").exists()
    assert os.listdir(package / "models" / "pretrained" / "celeba64" / "store")
