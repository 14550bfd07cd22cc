"""Fault 11 of round 2: prepare's decoding workers end with their parent, even when it is killed
with SIGKILL (no cleanup runs): otherwise they wait forever on their pipe with the deleted
temporary images.npy mapped, and its disk space is never freed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from faults import SRC, cli_code


def _children(pid: int) -> set[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return set()
    return {int(c) for c in text.split()}


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"  # a zombie has ended


def test_decoding_workers_end_when_prepare_is_killed(image_folder: Path, tmp_path: Path) -> None:
    slow = """
import time
import latentatlas.data.prepare as p
real = p.load_image
def slow(*args):
    time.sleep(0.5)
    return real(*args)
p.load_image = slow
"""
    argv = ["prepare", str(image_folder), "--out", str(tmp_path / "c"), "--workers", "2"]
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", cli_code(argv, slow)], env=env, stderr=subprocess.DEVNULL
    )
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while len(workers := _children(proc.pid)) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "no workers started"
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 5
        while any(_running(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_running(w) for w in workers), "workers outlived their parent"
    finally:
        proc.kill()
        for w in workers | _children(proc.pid):  # never leave an orphan behind a failure
            if _running(w):
                os.kill(w, signal.SIGKILL)
