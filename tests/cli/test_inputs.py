"""Round 2, faults 1 and 2: every path a verb reads (model, weights, store, cache, verdict, a
bundled name's files) is an input that no --out may be or hold, whatever --overwrite says; and no
verb writes inside the installed package. Fault 10: code runs only when asked for."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from faults import SRC, one_line_error

import latentatlas
from latentatlas.cli import build_parser, main
from latentatlas.core import atomic
from latentatlas.core.bundled import bundled_dir
from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.files import file_sha256

PACKAGE = Path(latentatlas.__file__).resolve().parent


def _no_work(monkeypatch, target: str) -> None:
    def fail(*args, **kwargs):
        pytest.fail("the work started: the output was not refused")

    monkeypatch.setattr(target, fail)


def test_analyze_never_replaces_its_model(
    tiny_run: Path, gauss_store: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    digest = file_sha256(run / "checkpoint.pt")
    _no_work(monkeypatch, "latentatlas.atlas.run_atlas")
    argv = ["analyze", str(gauss_store), "--out", str(run), "--model", str(run), "--overwrite"]
    assert main(argv) == 2
    assert "would replace the input" in one_line_error(capsys.readouterr().err, "analyze")
    assert file_sha256(run / "checkpoint.pt") == digest


@pytest.mark.parametrize("out", ["cache", "."])
def test_train_never_trains_into_its_cache(
    out: str, tiny_cache: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    shutil.copytree(tiny_cache, tmp_path / "cache")
    monkeypatch.chdir(tmp_path)
    _no_work(monkeypatch, "latentatlas.models.train._train")
    assert main(["train", "cache", "--out", out, "--overwrite", "--quiet"]) == 2
    assert "would replace the input cache" in one_line_error(capsys.readouterr().err, "train")
    assert not list(tmp_path.rglob("checkpoint.pt"))


def test_no_output_inside_the_installed_package(monkeypatch, capsys) -> None:
    _no_work(monkeypatch, "latentatlas.generators.sampling.sample")
    store = bundled_dir("celeba64") / "store"
    before = {p.name: file_sha256(p) for p in store.iterdir()}
    argv = ["sample", "celeba64", "celeba64", "--out", str(store), "--overwrite"]
    assert main(argv) == 2
    assert "inside the installed latentatlas package" in one_line_error(
        capsys.readouterr().err, "sample"
    )
    assert {p.name: file_sha256(p) for p in store.iterdir()} == before
    # The library's own output check holds the same rule, for any folder of the package.
    with pytest.raises(LatentAtlasError, match="inside the installed latentatlas package"):
        atomic.check_new(PACKAGE / "atlas" / "report", overwrite=True)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["analyze", "S", "--out", "O", "--verdict", "V", "--model", "M"], ["S", "V", "M"]),
        (["encode", "M", "C", "--out", "O"], ["M", "C"]),
        (["prepare", "SRC", "--out", "O"], ["SRC"]),
        (["sample", "--model", "pkg.mod:make", "--weights", "W", "S", "--out", "O"], ["W", "S"]),
        (["path", "celeba64", "celeba64", "--out", "O"], ["celeba64"]),
    ],
)
def test_input_paths_collects_every_input(argv: list[str], expected: list[str]) -> None:
    from latentatlas.cli import input_paths  # the one place that collects a verb's inputs

    paths = input_paths(build_parser().parse_args(argv))
    assert set(expected) <= set(paths)
    if "celeba64" in expected:  # the bundled name's files
        bundle = bundled_dir("celeba64")
        assert {str(bundle / "model.pt"), str(bundle / "store")} <= set(paths)


def _script(path: Path) -> Path:
    class Toy(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.image_size = 16
            self.lin = torch.nn.Linear(3 * 16 * 16, 4)

        @torch.jit.export
        def encode(self, x: torch.Tensor) -> torch.Tensor:
            return self.lin(x.flatten(1))

        @torch.jit.export
        def decode(self, z: torch.Tensor) -> torch.Tensor:
            return torch.sigmoid(z.mean(1)).reshape(-1, 1, 1, 1).expand(-1, 3, 16, 16)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.decode(self.encode(x))

    torch.jit.save(torch.jit.script(Toy()), str(path))
    return path


def test_a_torchscript_archive_runs_only_when_named_so(tiny_cache: Path, tmp_path: Path, capsys):
    archive = _script(tmp_path / "model.pt")  # looks like a checkpoint
    argv = [str(tiny_cache), "--quiet", "--batch-size", "32"]
    assert main(["encode", str(archive), *argv, "--out", str(tmp_path / "a")]) == 2
    line = one_line_error(capsys.readouterr().err, "encode")
    assert "runs its own code" in line and f"torchscript:{archive}" in line
    assert not (tmp_path / "a").exists()
    assert main(["encode", f"torchscript:{archive}", *argv, "--out", str(tmp_path / "b")]) == 0
    assert main(["encode", str(archive), *argv, "--trust-code", "--out", str(tmp_path / "c")]) == 0


def test_python_m_ignores_modules_in_the_current_folder(tmp_path: Path) -> None:
    # `python -m` puts the current folder first on sys.path: a module there named like one
    # latentatlas imports (here argparse, imported by the CLI itself) must not be the one run.
    (tmp_path / "argparse.py").write_text("raise SystemExit('the current folder shadowed it')\n")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-m", "latentatlas", "--version"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-500:]


def test_a_torchrun_process_keeps_its_output_and_exit_status(tmp_path: Path) -> None:
    # Under torchrun the CLI leaves with os._exit (gloo's threads would outlive Python's
    # shutdown), so buffered output must be flushed by hand and the status passed on.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered output
    env |= {"PYTHONPATH": str(SRC), "WORLD_SIZE": "2"}
    ok = subprocess.run(
        [sys.executable, "-m", "latentatlas", "theory", "--N", "8", "--mc", "200"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr[-500:]
    assert ok.stdout.rstrip().endswith("width = 1/sqrt(5N)")
    bad = subprocess.run(
        [sys.executable, "-m", "latentatlas", "analyze", str(tmp_path / "nope"), "--out", "x"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        f"latentatlas analyze: error: {tmp_path / 'nope'}: no such store (a store directory or "
        "an .npy file)"
    ]
