"""Fault 2, two runs with the same --out: the final rename never replaces an output that
appeared meanwhile (without --overwrite), and a second `train` into a run folder fails at once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from faults import one_line_error

from latentatlas.cli import main
from latentatlas.core import atomic
from latentatlas.core.errors import LatentAtlasError

TINY = ["--latent-dim", "8", "--channels", "8,16", "--batch-size", "16", "--quiet"]


def _other_run_finishes(out: Path) -> None:
    out.mkdir()
    (out / "theirs.txt").write_text("the other run's result")


def test_final_rename_refuses_an_output_that_appeared(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(LatentAtlasError, match="appeared while this run was writing"):
        with atomic.atomic_dir(out) as tmp:
            (tmp / "mine.txt").write_text("mine")
            _other_run_finishes(out)
    assert sorted(p.name for p in out.iterdir()) == ["theirs.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_final_rename_refuses_an_empty_folder_that_appeared(tmp_path: Path) -> None:
    # rename(2) would silently replace an empty directory.
    out = tmp_path / "out"
    with pytest.raises(LatentAtlasError, match="appeared"):
        with atomic.atomic_dir(out) as tmp:
            (tmp / "mine.txt").write_text("mine")
            out.mkdir()
    assert list(out.iterdir()) == []


def test_overwrite_still_replaces_what_appeared(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with atomic.atomic_dir(out, overwrite=True) as tmp:
        (tmp / "mine.txt").write_text("mine")
        _other_run_finishes(out)
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]


def test_two_prepares_into_one_new_path(
    image_folder: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    import latentatlas.data.prepare as prep

    out = tmp_path / "cache"
    real = prep._write_metadata

    def slow_metadata(*args, **kwargs):
        _other_run_finishes(out)  # the other run printed "wrote" first
        return real(*args, **kwargs)

    monkeypatch.setattr(prep, "_write_metadata", slow_metadata)
    assert main(["prepare", str(image_folder), "--out", str(out), "--workers", "1"]) == 2
    assert "appeared" in one_line_error(capsys.readouterr().err, "prepare")
    assert sorted(p.name for p in out.iterdir()) == ["theirs.txt"]


def test_two_encodes_into_one_new_path(
    tiny_run: Path, tiny_cache: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    import latentatlas.models.encode as enc

    out = tmp_path / "store"
    real = enc.write_store_extras

    def slow_extras(*args, **kwargs):
        _other_run_finishes(out)
        return real(*args, **kwargs)

    monkeypatch.setattr(enc, "write_store_extras", slow_extras)
    argv = ["encode", str(tiny_run), str(tiny_cache), "--out", str(out), "--quiet"]
    assert main(argv) == 2
    assert "appeared" in one_line_error(capsys.readouterr().err, "encode")
    assert sorted(p.name for p in out.iterdir()) == ["theirs.txt"]


def test_a_second_train_into_a_running_run_fails_at_once(tiny_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "latentatlas", "train", str(tiny_cache), "--out", str(out)]
    first = subprocess.Popen(
        [*argv, "--epochs", "500", *TINY], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.time() + 120
        while not (out / "recon").exists() and time.time() < deadline:
            assert first.poll() is None, first.stderr.read()
            time.sleep(0.05)
        t0 = time.perf_counter()
        second = subprocess.run(
            [*argv, "--epochs", "1", "--resume", *TINY], capture_output=True, text=True, timeout=60
        )
        elapsed = time.perf_counter() - t0
    finally:
        first.kill()
        first.wait()
    assert second.returncode == 2, second.stderr
    line = one_line_error(second.stderr, "train")
    assert "in use by another run" in line and str(out / ".lock") in line
    assert f"{first.pid}@" in line
    assert elapsed < 30  # at once: before loading or training anything
