"""Fault 7, `train` into an existing folder: a folder with other files, --resume of nothing and a
checkpoint whose config and weights disagree are one-line errors (exit 2) before any work; a run
killed before its first checkpoint is taken up by a rerun or --resume."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from faults import one_line_error

from latentatlas.cli import main
from latentatlas.models.checkpoint import load_checkpoint, save_checkpoint

TINY = ["--latent-dim", "8", "--channels", "8,16", "--batch-size", "16", "--quiet"]


def test_a_folder_with_other_files_is_refused(tiny_cache: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "photos"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"precious")
    argv = ["train", str(tiny_cache), "--out", str(out), "--epochs", "1", *TINY]
    assert main(argv) == 2
    line = one_line_error(capsys.readouterr().err, "train")
    assert "holds other files (holiday.jpg)" in line and "--overwrite" in line
    assert not (out / "checkpoint.pt").exists()
    assert main([*argv, "--overwrite"]) == 0
    assert (out / "checkpoint.pt").is_file() and (out / "holiday.jpg").read_bytes() == b"precious"


def test_resume_of_a_missing_run_is_refused(tiny_cache: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "nothing"
    argv = ["train", str(tiny_cache), "--out", str(out), "--epochs", "1", "--resume", *TINY]
    assert main(argv) == 2
    assert "nothing to resume" in one_line_error(capsys.readouterr().err, "train")
    assert not out.exists()


def test_resume_with_config_and_weights_disagreeing(
    tiny_run: Path, tiny_cache: Path, tmp_path: Path, capsys
) -> None:
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    state["model_config"]["latent_dim"] = 16  # the weights are for N = 8
    save_checkpoint(run / "checkpoint.pt", state)  # a consistent checksum: the file is intact
    argv = ["train", str(tiny_cache), "--out", str(run), "--epochs", "4", "--resume", *TINY]
    assert main(argv) == 2
    line = one_line_error(capsys.readouterr().err, "train")
    assert "cannot resume" in line


@pytest.mark.parametrize("resume", [False, True])
def test_a_run_killed_before_its_first_checkpoint_is_taken_up(
    resume: bool, tiny_cache: Path, tmp_path: Path
) -> None:
    # What a kill between the first reconstruction grid and the first checkpoint leaves.
    out = tmp_path / "run"
    (out / "recon").mkdir(parents=True)
    (out / "recon" / "epoch_001.png").write_bytes(b"\x89PNG partial")
    (out / ".lock").write_text("12345@elsewhere\n")
    argv = ["train", str(tiny_cache), "--out", str(out), "--epochs", "1", *TINY]
    assert main(argv + (["--resume"] if resume else [])) == 0
    assert load_checkpoint(out)["epoch"] == 1
