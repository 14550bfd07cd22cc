"""Fault 3, `--overwrite` killed half-way: at every step of the swap, the path holds a complete
old or a complete new version once the next run (or load) has recovered."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from faults import run_python

from latentatlas.core import atomic
from latentatlas.data.store import load_store, save_store

# The steps of atomic_dir's swap, in order, and which version each leaves behind.
STEPS = {"built": "old", "aside": "old", "swapped": "new", "cleaned": "new"}
KILLED = 86  # atomic._fault's exit status


def _version(path: Path) -> str:
    files = sorted(p.name for p in path.iterdir())
    version = (path / "version.txt").read_text()
    assert files == ["part1.txt", "part2.txt", "version.txt"], files
    assert all((path / f).read_text() == version for f in ("part1.txt", "part2.txt"))
    return version


def _write_version(directory: Path, version: str) -> None:
    for name in ("part1.txt", "part2.txt", "version.txt"):
        (directory / name).write_text(version)


@pytest.mark.parametrize("step", list(STEPS))
def test_a_kill_at_every_step_of_the_swap(tmp_path: Path, step: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    _write_version(out, "old")
    code = f"""
from pathlib import Path
from latentatlas.core import atomic
with atomic.atomic_dir({str(out)!r}, overwrite=True) as tmp:
    for name in ("part1.txt", "part2.txt", "version.txt"):
        (tmp / name).write_text("new")
"""
    done = run_python(code, env={atomic.FAULT_ENV: step})
    assert done.returncode == KILLED, done.stderr
    atomic.check_new(out, overwrite=True)  # what the next run does first
    assert _version(out) == STEPS[step]
    assert sorted(os.listdir(tmp_path)) == ["out"]  # no leftover of the killed swap


def test_a_store_read_after_a_kill_mid_swap_is_the_previous_one(tmp_path: Path) -> None:
    out = tmp_path / "store"
    rng = np.random.default_rng(0)
    z_old = rng.normal(size=(20, 3))
    save_store(out, z_old, np.arange(20).astype(str), np.zeros(20))
    code = f"""
import numpy as np
from latentatlas.data.store import save_store
save_store({str(out)!r}, np.ones((20, 3)) + np.arange(20)[:, None], np.arange(20).astype(str),
           np.zeros(20), overwrite=True)
"""
    done = run_python(code, env={atomic.FAULT_ENV: "aside"})
    assert done.returncode == KILLED, done.stderr
    assert not out.exists()  # the moment of the kill: the old store is aside
    store = load_store(out)  # a reader puts it back
    np.testing.assert_allclose(store.z, z_old.astype(np.float32))
    assert sorted(os.listdir(tmp_path)) == ["store"]


def test_a_live_swap_is_left_alone(tmp_path: Path) -> None:
    # The set-aside copy of a swap still in progress (its owner alive) must not be restored.
    out = tmp_path / "out"
    aside = tmp_path / f".out.{os.getpid()}@{atomic._host()}.abcd1234.old"
    aside.mkdir()
    _write_version(aside, "old")
    atomic.recover(out)
    assert not out.exists() and aside.exists()
