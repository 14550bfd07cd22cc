"""Fault 1, a full disk: a one-line error with exit 2 before any work where the size is known,
and for any later write; temporary files gone, the previous output intact, never a hang."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from faults import cli_code, fill, one_line_error, run_python

from latentatlas.cli import main
from latentatlas.core.files import file_sha256
from latentatlas.data.store import load_store


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _tree(path: Path) -> dict[str, str]:
    return {p.relative_to(path).as_posix(): file_sha256(p) for p in path.rglob("*") if p.is_file()}


def test_prepare_refuses_a_full_disk_up_front_tmpfs(small_fs: Path, image_folder: Path) -> None:
    # 24 images of 192 x 192 x 3 = 2.6 MB cannot fit on 2 MiB: refused before decoding.
    argv = ["prepare", str(image_folder), "--out", str(small_fs / "c"), "--size", "192"]
    done = run_python(cli_code(argv), timeout=120)
    assert done.returncode == 2, done.stderr
    assert "not enough disk space" in one_line_error(done.stderr, "prepare")
    assert sorted(os.listdir(small_fs)) == []


def test_prepare_refuses_a_full_disk_up_front_injected(
    image_folder: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage._replace(free=1 << 20))
    monkeypatch.setattr(
        "latentatlas.data.prepare._decode_all", lambda *a: pytest.fail("decoded on a full disk")
    )
    assert main(["prepare", str(image_folder), "--out", str(tmp_path / "c")]) == 2
    assert "not enough disk space" in one_line_error(capsys.readouterr().err, "prepare")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("workers", ["1", "2"])
def test_prepare_on_a_really_full_disk_is_an_error_not_a_bus_error(
    small_fs: Path, image_folder: Path, workers: str
) -> None:
    # With the up-front check out of the way, the memory map meets the full disk itself: the
    # file is allocated before mapping, so this is ENOSPC, not SIGBUS (exit 135) or a hang.
    before = "import latentatlas.core.atomic as a; a.check_space = lambda *args, **kw: None"
    argv = ["prepare", str(image_folder), "--out", str(small_fs / "c"), "--size", "192"]
    argv += ["--workers", workers]
    done = run_python(cli_code(argv, before), timeout=120)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "no space left on device" in one_line_error(done.stderr, "prepare")
    assert sorted(os.listdir(small_fs)) == []


def test_prepare_allocation_failure_keeps_the_previous_cache(
    image_folder: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    out = tmp_path / "cache"
    assert main(["prepare", str(image_folder), "--out", str(out), "--workers", "1"]) == 0
    before = _tree(out)
    monkeypatch.setattr(os, "posix_fallocate", _enospc)
    argv = ["prepare", str(image_folder), "--out", str(out), "--overwrite", "--size", "32"]
    assert main(argv) == 2
    assert "no space left on device" in one_line_error(capsys.readouterr().err, "prepare")
    assert _tree(out) == before
    assert os.listdir(tmp_path) == ["cache"]  # no temporary folder left behind


def test_encode_on_a_really_full_disk_is_an_error_not_a_bus_error(
    small_fs: Path, tiny_run: Path, tiny_cache: Path
) -> None:
    fill(small_fs, 1024)  # z.npy needs 96 x 8 x 4 bytes and a header: more than is left
    before = "import latentatlas.core.atomic as a; a.check_space = lambda *args, **kw: None"
    argv = ["encode", str(tiny_run), str(tiny_cache), "--out", str(small_fs / "z"), "--quiet"]
    done = run_python(cli_code(argv, before), timeout=120)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "no space left on device" in one_line_error(done.stderr, "encode")
    assert sorted(os.listdir(small_fs)) == ["filler"]


def test_encode_refuses_a_full_disk_up_front(
    tiny_run: Path, tiny_cache: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage._replace(free=1 << 20))
    argv = ["encode", str(tiny_run), str(tiny_cache), "--out", str(tmp_path / "z"), "--quiet"]
    assert main(argv) == 2
    assert "not enough disk space" in one_line_error(capsys.readouterr().err, "encode")
    assert os.listdir(tmp_path) == []


def test_a_later_out_of_space_keeps_the_previous_store(
    tiny_run: Path, tiny_cache: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    out = tmp_path / "z"
    argv = ["encode", str(tiny_run), str(tiny_cache), "--out", str(out), "--quiet"]
    assert main(argv) == 0
    before = _tree(out)
    real_save = np.save

    def save(file, arr, *args, **kwargs):
        if str(file).endswith("ids.npy"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file))
        return real_save(file, arr, *args, **kwargs)

    monkeypatch.setattr(np, "save", save)
    assert main([*argv, "--overwrite"]) == 2
    line = one_line_error(capsys.readouterr().err, "encode")
    assert "ids.npy: no space left on device" in line
    assert _tree(out) == before and load_store(out).n == 96
    assert os.listdir(tmp_path) == ["z"]


def test_checkpoint_out_of_space_is_one_line(
    tiny_cache: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setattr(os, "fsync", _enospc)  # every atomic file write ends with an fsync
    out = tmp_path / "run"
    argv = ["train", str(tiny_cache), "--out", str(out), "--epochs", "1", "--quiet"]
    argv += ["--latent-dim", "8", "--channels", "8,16", "--batch-size", "16"]
    assert main(argv) == 2
    line = one_line_error(capsys.readouterr().err, "train")
    # The file that did not fit is named (fsync names none), not only the run folder.
    assert f"{out / 'recon' / 'epoch_001.png'}: no space left on device" in line
    assert [p.name for p in out.rglob("*") if p.name.endswith(".tmp")] == []


def test_a_full_disk_names_the_file_of_a_folder_output(
    tiny_run: Path, tiny_cache: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    real_save = np.save

    def save(file, arr, *args, **kwargs):
        if str(file).endswith("split.npy"):
            real_save(file, arr[:1], *args, **kwargs)  # a write() that fails names no file
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(file, arr, *args, **kwargs)

    monkeypatch.setattr(np, "save", save)
    out = tmp_path / "z"
    argv = ["encode", str(tiny_run), str(tiny_cache), "--out", str(out), "--quiet"]
    assert main(argv) == 2
    line = one_line_error(capsys.readouterr().err, "encode")
    assert f"{out / 'split.npy'}: no space left on device" in line
    assert os.listdir(tmp_path) == []


def test_report_write_on_a_really_full_disk(small_fs: Path) -> None:
    fill(small_fs, 8 << 10)  # theory.png (~40 kB) does not fit: the write itself fails
    argv = ["theory", "--N", "16", "--mc", "200", "--out", str(small_fs / "t")]
    done = run_python(cli_code(argv), timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "no space left on device" in one_line_error(done.stderr, "theory")
    assert sorted(os.listdir(small_fs)) == ["filler"]


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGBUS"])
def test_a_dead_decoding_worker_ends_prepare_with_an_error(
    image_folder: Path, tmp_path: Path, signal_name: str
) -> None:
    before = f"""
import os, signal
import latentatlas.data.prepare as p
real = p._decode_into
def dying(job):
    if job[0] == 5:
        os.kill(os.getpid(), signal.{signal_name})
    return real(job)
p._decode_into = dying
"""
    argv = ["prepare", str(image_folder), "--out", str(tmp_path / "c"), "--workers", "2"]
    done = run_python(cli_code(argv, before), timeout=90)  # a hang fails here (TimeoutExpired)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "worker died" in one_line_error(done.stderr, "prepare")
    assert os.listdir(tmp_path) == []
