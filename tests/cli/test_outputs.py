"""Fault 8, where the output goes: --overwrite never deletes the command's own input, and an
output behind a file or on a read-only file system is refused before any work."""

from __future__ import annotations

import errno
import os
import tempfile
import uuid
from pathlib import Path

import numpy as np
import pytest
from faults import mount_tmpfs, one_line_error, unmount

from latentatlas.cli import main
from latentatlas.core.files import file_sha256


@pytest.fixture
def z_file(tmp_path: Path) -> Path:
    path = tmp_path / "z.npy"
    np.save(path, np.random.default_rng(0).normal(size=(300, 6)))
    return path


def _no_work(monkeypatch) -> None:
    def fail(*args, **kwargs):
        pytest.fail("the work started before the output was checked")

    monkeypatch.setattr("latentatlas.atlas.run_atlas", fail)
    monkeypatch.setattr("latentatlas.data.prepare._decode_all", fail)


def test_overwrite_never_replaces_the_input(z_file: Path, monkeypatch, capsys) -> None:
    digest = file_sha256(z_file)
    _no_work(monkeypatch)
    for out in (z_file, z_file.parent):  # the input itself, or a folder holding it
        assert main(["analyze", str(z_file), "--out", str(out), "--overwrite"]) == 2
        assert "would replace the input" in one_line_error(capsys.readouterr().err, "analyze")
    assert file_sha256(z_file) == digest


def test_prepare_never_replaces_its_source(image_folder: Path, monkeypatch, capsys) -> None:
    _no_work(monkeypatch)
    argv = ["prepare", str(image_folder), "--out", str(image_folder), "--overwrite"]
    assert main(argv) == 2
    assert "would replace the input" in one_line_error(capsys.readouterr().err, "prepare")
    assert image_folder.is_dir() and any(image_folder.iterdir())


def test_sample_never_replaces_its_checkpoint(tiny_run: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "z.npy"
    np.save(store, np.random.default_rng(0).normal(size=(50, 8)))
    digest = file_sha256(tiny_run / "checkpoint.pt")
    assert main(["sample", str(tiny_run), str(store), "--out", str(tiny_run), "--overwrite"]) == 2
    assert "would replace the input" in one_line_error(capsys.readouterr().err, "sample")
    assert file_sha256(tiny_run / "checkpoint.pt") == digest


@pytest.mark.parametrize("verb", ["analyze", "prepare"])
def test_an_output_under_a_file_is_refused_up_front(
    verb: str, z_file: Path, image_folder: Path, monkeypatch, capsys
) -> None:
    _no_work(monkeypatch)
    src = z_file if verb == "analyze" else image_folder
    assert main([verb, str(src), "--out", str(z_file / "sub")]) == 2
    line = one_line_error(capsys.readouterr().err, verb)
    assert f"{z_file} is a file, not a folder" in line and "exists" not in line


def test_a_read_only_file_system_is_refused_up_front_tmpfs(
    z_file: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    mnt = tmp_path / f"ro-{uuid.uuid4().hex[:6]}"
    if not mount_tmpfs(mnt, "1m", "ro"):
        pytest.skip("cannot mount a tmpfs here; see the injected twin")
    try:
        _no_work(monkeypatch)
        assert main(["analyze", str(z_file), "--out", str(mnt / "atlas")]) == 2
        line = one_line_error(capsys.readouterr().err, "analyze")
        assert "not writable" in line and "Read-only file system" in line
    finally:
        unmount(mnt)


def test_a_read_only_location_is_refused_up_front_injected(
    z_file: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    _no_work(monkeypatch)
    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    assert main(["analyze", str(z_file), "--out", str(tmp_path / "atlas")]) == 2
    assert "not writable" in one_line_error(capsys.readouterr().err, "analyze")
