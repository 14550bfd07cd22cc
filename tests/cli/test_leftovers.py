"""Fault 4, leftovers of killed runs: removed by the next run into the same output, but only
those whose owning process is gone (a pid and its start time: a reused pid is another process);
history.json agrees with the checkpoint after a kill."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

from faults import cli_code, dead_pid, run_python

from latentatlas.cli import main
from latentatlas.core import atomic
from latentatlas.models.checkpoint import load_checkpoint

TINY = ["--latent-dim", "8", "--channels", "8,16", "--batch-size", "16", "--quiet"]


def _name(target: str, pid: int, rand: str, kind: str) -> str:
    host = "".join(c if c.isalnum() or c == "-" else "-" for c in socket.gethostname())[:32]
    return f".{target}.{pid}@{host}.{rand}.{kind}"


def test_a_killed_prepare_leaves_nothing_after_the_next_run(
    image_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cache"
    argv = ["prepare", str(image_folder), "--out", str(out), "--workers", "1"]
    killed = run_python(cli_code(argv), env={atomic.FAULT_ENV: "built"})
    assert killed.returncode == 86, killed.stderr
    assert [p.name.endswith(".tmp") for p in tmp_path.iterdir()] == [True]  # the killed build
    assert main(argv) == 0
    assert sorted(os.listdir(tmp_path)) == ["cache"]


def test_only_leftovers_of_dead_processes_are_removed(image_folder: Path, tmp_path: Path) -> None:
    argv = ["prepare", str(image_folder), "--out", str(tmp_path / "cache"), "--workers", "1"]
    assert main(argv) == 0
    gone, alive = dead_pid(), os.getpid()
    stale = [
        _name("cache", gone, "aaaa1111", "tmp"),
        _name("cache", gone, "bbbb2222", "old"),
    ]
    live = [_name("cache", alive, "cccc3333", "tmp"), _name("other", gone, "dddd4444", "tmp")]
    for name in stale + live:
        (tmp_path / name).mkdir()
        (tmp_path / name / "images.npy").write_bytes(b"\0" * 1000)
    assert main([*argv, "--overwrite"]) == 0
    assert sorted(os.listdir(tmp_path)) == sorted(["cache", *live])


def test_stale_checkpoint_temp_files_go_and_history_follows_the_checkpoint(
    tiny_run: Path, tiny_cache: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    gone = dead_pid()
    for i in range(3):  # 40 MB each for the real model; a few bytes suffice here
        (run / _name("checkpoint.pt", gone, f"x{i}abcdef", "tmp")).write_bytes(b"\0" * 4096)
    (run / _name("history.json", gone, "yabcdefg", "tmp")).write_text("[")
    # A kill between the checkpoint and history.json leaves history one epoch behind.
    history = json.loads((run / "history.json").read_text())
    (run / "history.json").write_text(json.dumps(history[:-1]))
    argv = ["train", str(tiny_cache), "--out", str(run), "--epochs", "3", "--resume", *TINY]
    assert main(argv) == 0
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == [".lock"]
    state = load_checkpoint(run)
    assert json.loads((run / "history.json").read_text()) == state["history"]
    assert len(state["history"]) == 3


def test_a_set_aside_copy_whose_pid_was_reused_is_restored(tmp_path: Path) -> None:
    # A swap killed after setting the old store aside; its pid now belongs to a live process
    # (here this one) that started at another time: the owner is gone, the copy comes back.
    host = "".join(c if c.isalnum() or c == "-" else "-" for c in socket.gethostname())[:32]
    old = tmp_path / f".store.{os.getpid()}-1@{host}.abcd1234.old"
    old.mkdir()
    (old / "z.npy").write_bytes(b"previous")
    atomic.recover(tmp_path / "store")
    assert (tmp_path / "store" / "z.npy").read_bytes() == b"previous" and not old.exists()
