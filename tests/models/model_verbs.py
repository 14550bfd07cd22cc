"""What every loader's test runs: the verbs end to end on one model, and the one-line error."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from latentatlas.cli import main

FAST = ["--sample", "1500", "--prdc-sample", "200", "--quiet"]
# compare's image judges see only decoded images, never the model: one judge (the attribute
# classifier, a fraction of a second) runs them on each loader's decoded images; the face
# descriptor and the CNN two-sample test (seconds a set) are tested in tests/verdict.
JUDGES = ["attributes"]


def one_line_error(err: str, verb: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"latentatlas {verb}: error: ")
    return lines[0]


def verbs_end_to_end(
    model_args: list[str], cache: Path, tmp: Path, capsys, analyze_args: Sequence[str] = ()
) -> dict:
    """encode → analyze → sample → path → compare from the CLI with one model; the store's
    sidecar. ``analyze_args``: more options for analyze (``--model``: the atlas decodes with it);
    the atlas is in ``tmp / "atlas"``."""
    store = tmp / "store"
    assert main(["encode", *model_args, str(cache), "--out", str(store), "--quiet"]) == 0
    meta = json.loads((store / "store.json").read_text())
    atlas = tmp / "atlas"
    assert main(["analyze", str(store), "--out", str(atlas), *FAST, *analyze_args]) == 0
    assert (atlas / "index.html").is_file()
    assert main(["sample", *model_args, str(store), "--out", str(tmp / "s"), "--n", "9"]) == 0
    images = np.load(tmp / "s" / "images.npy")
    assert images.shape == (9, 16, 16, 3) and images.dtype == np.uint8
    argv = ["path", *model_args, str(store), "--out", str(tmp / "p"), "--plane", "0,1"]
    assert main([*argv, "--steps", "4"]) == 0
    assert np.load(tmp / "p" / "z.npy").shape == (4, meta["latent_dim"])
    assert (tmp / "p" / "strip.png").is_file()
    argv = ["compare", *model_args, str(store), "--out", str(tmp / "v"), "--n", "20"]
    assert main([*argv, "--generators", "cube", "mvn", "--judges", *JUDGES, "--quiet"]) == 0
    verdict = json.loads((tmp / "v" / "verdict.json").read_text())
    assert [r["generator"] for r in verdict["rows"]] == ["cube", "mvn"]
    capsys.readouterr()
    return meta
