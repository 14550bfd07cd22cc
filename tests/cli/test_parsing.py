"""The command line's shape: options and positionals in any order, and the options every verb
shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from latentatlas.cli import VERBS, build_parser, main


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_takes_the_common_options(verb: str) -> None:
    parser = build_parser()
    verb_parser = parser._subparsers._group_actions[0].choices[verb]
    assert "--quiet" in verb_parser._option_string_actions


@pytest.mark.parametrize(
    "argv",
    [
        ["encode", "pkg.mod:make", "--weights", "W", "CACHE", "--out", "S"],
        ["encode", "--out", "S", "pkg.mod:make", "CACHE", "--weights", "W"],
        ["encode", "pkg.mod:make", "CACHE", "--weights", "W", "--out", "S"],
    ],
)
def test_options_and_positionals_in_any_order(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    got = (args.checkpoint, args.cache, args.weights, args.out)
    assert got == ("pkg.mod:make", "CACHE", "W", "S")


def test_model_as_an_option_leaves_the_positional_to_the_input() -> None:
    args = build_parser().parse_args(["compare", "--model", "M", "--out", "V", "STORE"])
    assert (args.checkpoint, args.model, args.store) == (None, "M", "STORE")


def test_encode_with_an_option_between_model_and_cache(
    tiny_run: Path, tiny_cache: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "store"
    argv = ["encode", str(tiny_run), "--batch-size", "32", str(tiny_cache), "--out", str(out)]
    assert main([*argv, "--quiet"]) == 0
    assert (out / "z.npy").is_file()
    assert capsys.readouterr().err == ""  # --quiet: no progress bar


def test_prepare_quiet(image_folder: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cache"
    assert main(["prepare", "--quiet", str(image_folder), "--out", str(out), "--size", "8"]) == 0
    assert capsys.readouterr().err == ""
    assert (out / "images.npy").is_file()
