"""Fault 9, error texts: honest one-line messages, numeric options refused before any work,
no silently ignored flags. Fault 10: 16-bit images are scaled, not clipped to white."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from faults import one_line_error
from PIL import Image

from latentatlas.cli import main
from latentatlas.data.cache import load_cache
from latentatlas.data.prepare import prepare


def test_a_numpy_file_named_pt_never_advises_weights_only_false(
    tiny_cache: Path, tmp_path: Path, capsys
) -> None:
    np.save(tmp_path / "model.npy", np.zeros((3, 3)))
    (tmp_path / "model.npy").rename(tmp_path / "model.pt")
    argv = ["encode", str(tmp_path / "model.pt"), str(tiny_cache), "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    line = one_line_error(capsys.readouterr().err, "encode")
    assert "a NumPy .npy array, not a checkpoint" in line and "weights_only" not in line


def test_a_pickle_named_pt_is_refused_without_the_unsafe_advice(
    tiny_cache: Path, tmp_path: Path, capsys
) -> None:
    import torch

    torch.save({"format": "latentatlas-checkpoint/1", "obj": Path("x")}, tmp_path / "m.pt")
    argv = ["encode", str(tmp_path / "m.pt"), str(tiny_cache), "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    line = one_line_error(capsys.readouterr().err, "encode")
    assert "refused" in line and "weights_only=False" not in line


def test_a_text_file_named_npy(tmp_path: Path, capsys) -> None:
    (tmp_path / "z.npy").write_text("1 2 3\n4 5 6\n")
    assert main(["analyze", str(tmp_path / "z.npy"), "--out", str(tmp_path / "a")]) == 2
    line = one_line_error(capsys.readouterr().err, "analyze")
    assert "not a .npy file" in line and "pickled" not in line


def test_an_all_zero_store_is_named_before_any_analysis(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    np.save(tmp_path / "z.npy", np.zeros((500, 8), np.float32))
    monkeypatch.setattr("latentatlas.atlas.run_atlas", lambda *a, **k: pytest.fail("analysed"))
    assert main(["analyze", str(tmp_path / "z.npy"), "--out", str(tmp_path / "a")]) == 2
    assert "all z-points are identical" in one_line_error(capsys.readouterr().err, "analyze")


NUMERIC = [
    ["demo", "--n", "0"],
    ["demo", "--seed", "-1"],
    ["prepare", "SRC", "--out", "O", "--size", "0"],
    ["prepare", "SRC", "--out", "O", "--workers", "0"],
    ["prepare", "SRC", "--out", "O", "--limit", "-5"],
    ["prepare", "SRC", "--out", "O", "--val-fraction", "1.5"],
    ["train", "C", "--out", "O", "--epochs", "0"],
    ["train", "C", "--out", "O", "--batch-size", "0"],
    ["train", "C", "--out", "O", "--lr", "nan"],
    ["train", "C", "--out", "O", "--latent-dim", "0"],
    ["encode", "K", "C", "--out", "O", "--batch-size", "-1"],
    ["analyze", "S", "--out", "O", "--sample", "0"],
    ["analyze", "S", "--out", "O", "--prdc-sample", "-3"],
    ["analyze", "S", "--out", "O", "--threads", "0"],
    ["analyze", "S", "--out", "O", "--b", "-1"],
    ["theory", "--N", "0"],
    ["theory", "--N", "8", "--b", "inf"],
    ["theory", "--N", "8", "--mc", "5"],
    ["sample", "K", "S", "--out", "O", "--n", "0"],
    ["compare", "K", "S", "--out", "O", "--n", "3"],
    ["path", "K", "S", "--out", "O", "--plane", "0,1", "--steps", "1"],
]


@pytest.mark.parametrize("argv", NUMERIC, ids=lambda a: " ".join(a[:1] + a[-2:]))
def test_every_numeric_option_is_checked_before_any_work(
    argv: list[str], tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("latentatlas.atlas.demo.run_demo", lambda *a, **k: pytest.fail("worked"))
    assert main(argv) == 2
    line = one_line_error(capsys.readouterr().err, argv[0])
    assert argv[-2] in line or "--b" in line
    assert list(tmp_path.iterdir()) == []


def test_plane_and_between_exclude_each_other(tmp_path: Path, capsys) -> None:
    argv = ["path", "celeba64", "celeba64", "--out", str(tmp_path / "p")]
    assert main([*argv, "--plane", "1,2", "--between", "A", "B"]) == 2
    line = one_line_error(capsys.readouterr().err, "path")
    assert "--between" in line and "--plane" in line
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize(
    "extra",
    [
        ["--plane", "0,1", "--radius", "-1", "--kind", "circle"],
        ["--plane", "0,1", "--start", "1,2,3"],
        ["--plane", "0,1", "--kind", "circle", "--start", "0,1"],
        ["--plane", "0,1", "--radius", "2"],
        ["--between", "A", "B", "--end", "0,1"],
        ["--between", "A", "B", "--kind", "segment"],
    ],
    ids=lambda a: " ".join(a[2:]),
)
def test_path_options_of_another_kind_are_refused(
    extra: list[str], tmp_path: Path, monkeypatch, capsys
) -> None:
    fail = lambda *a, **k: pytest.fail("worked")  # noqa: E731
    monkeypatch.setattr("latentatlas.generators.sampling.path", fail)
    assert main(["path", "celeba64", "celeba64", "--out", str(tmp_path / "p"), *extra]) == 2
    one_line_error(capsys.readouterr().err, "path")


def test_16_bit_images_are_scaled_not_clipped(tmp_path: Path) -> None:
    src = tmp_path / "grey16"
    src.mkdir()
    ramp = np.linspace(0, 65535, 32 * 32).reshape(32, 32).astype(np.uint16)
    Image.fromarray(ramp).save(src / "ramp.png")
    assert Image.open(src / "ramp.png").mode.startswith("I")
    prepare(src, tmp_path / "c", size=32, crop="none", workers=1, progress=False)
    pixels = np.asarray(load_cache(tmp_path / "c").images[0], dtype=float)
    assert pixels.min() < 10 and pixels.max() > 245
    assert abs(pixels.mean() - 127.5) < 5  # a ramp, not a white square
    assert (pixels[..., 0] == pixels[..., 2]).all()


# Round 2: the values a hostile user tried, each refused in one line before any work.
HUGE = [
    ["train", "C", "--out", "O", "--seed", str(10**23)],
    ["train", "C", "--out", "O", "--latent-dim", str(10**12)],
    ["train", "C", "--out", "O", "--channels", str(10**8)],
    ["sample", "K", "S", "--out", "O", "--n", str(10**12)],
    ["analyze", "S", "--out", "O", "--sample", str(10**12)],
    ["analyze", "S", "--out", "O", "--b", "1e400"],
    ["theory", "--N", str(10**9)],
    ["theory", "--N", "8", "--mc", str(10**14)],
    ["path", "K", "S", "--out", "O", "--plane", "0,1", "--steps", str(10**9)],
    ["explore", "K", "--port", "70000"],
]


@pytest.mark.parametrize("argv", HUGE, ids=lambda a: " ".join(a[:1] + a[-2:]))
def test_every_numeric_option_has_an_upper_bound(
    argv: list[str], tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    line = one_line_error(capsys.readouterr().err, argv[0])
    assert f"argument {argv[-2]}" in line
    assert list(tmp_path.iterdir()) == []


def test_memory_is_estimated_before_the_model_is_built(
    tiny_cache: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    import latentatlas.core.validation as validation

    monkeypatch.setattr(validation, "available_memory", lambda: 100_000)  # a tiny machine
    monkeypatch.setattr("latentatlas.models.train._train_epoch", lambda *a: pytest.fail("ran"))
    argv = ["train", str(tiny_cache), "--out", str(tmp_path / "r"), "--latent-dim", "8"]
    assert main([*argv, "--channels", "8,16", "--batch-size", "16", "--quiet"]) == 2
    line = one_line_error(capsys.readouterr().err, "train")
    assert "GiB of memory" in line and "--latent-dim" in line


@pytest.mark.parametrize("value", ["-1", '"x"', "NaN"])
def test_bad_generator_parameters_are_one_line(
    value: str, gauss_store: Path, tiny_run: Path, tmp_path: Path, capsys
) -> None:
    argv = ["sample", str(tiny_run), str(gauss_store), "--out", str(tmp_path / "s"), "--quiet"]
    assert main([*argv, "--params", f'{{"temperature": {value}}}']) == 2
    assert "--params: temperature" in one_line_error(capsys.readouterr().err, "sample")


def test_a_symlink_loop_as_input(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    os.symlink("b", "a")
    os.symlink("a", "b")
    for verb, argv in (("prepare", ["a", "--out", "c"]), ("analyze", ["a", "--out", "r"])):
        assert main([verb, *argv]) == 2
        assert "a: cannot be resolved" in one_line_error(capsys.readouterr().err, verb)


@pytest.mark.parametrize("value", [5, None, [1, 2]])
def test_attribute_names_that_are_not_names(
    value: object, gauss_store: Path, tmp_path: Path, capsys
) -> None:
    import json
    import shutil

    store = tmp_path / "store"
    shutil.copytree(gauss_store, store)
    meta = json.loads((store / "store.json").read_text())
    (store / "store.json").write_text(json.dumps({**meta, "attribute_names": value}))
    argv = ["analyze", str(store), "--out", str(tmp_path / "a"), "--no-verify"]
    assert main(argv) == 2
    assert '"attribute_names" must be a list' in one_line_error(capsys.readouterr().err, "analyze")
