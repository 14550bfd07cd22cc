"""Helpers of the fault tests: subprocesses, small file systems, dead processes, one-line errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import latentatlas

# Subprocesses import the same latentatlas as this process.
SRC = Path(latentatlas.__file__).resolve().parents[1]


def one_line_error(err: str, verb: str) -> str:
    """The stderr of a failed verb: exactly one line, from the CLI's error path."""
    # Progress bars (carriage-return lines ending in "%|...") are not part of the message.
    text = re.sub(r"[^\n]*\d+%\|[^\n]*?(\]|$)", "", err)
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"latentatlas {verb}: error: "), err
    assert "Traceback" not in err
    return lines[0]


def run_python(
    code: str, *, timeout: float = 120, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (faults that kill or hang a process stay there)."""
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), full_env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=timeout
    )


def cli_code(argv: list[str], before: str = "") -> str:
    """Python source that runs ``latentatlas ARGV`` after the (fault-injecting) ``before``."""
    return f"{before}\nfrom latentatlas.cli import main\nraise SystemExit(main({argv!r}))\n"


def dead_pid() -> int:
    """The pid of a process that has exited (not reused this soon in practice)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def mount_tmpfs(path: Path, size: str, options: str = "") -> bool:
    """Mount a tmpfs of ``size`` at ``path`` where this machine lets us (root, no sandbox ban)."""
    if os.name != "posix" or os.geteuid() != 0:
        return False
    path.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (f",{options}" if options else "")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True
    )
    return done.returncode == 0


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(fs: Path, leave: int) -> None:
    """Fill the file system at ``fs`` until about ``leave`` bytes are free."""
    free = shutil.disk_usage(fs).free
    with open(fs / "filler", "wb") as f:
        f.write(b"\0" * max(0, free - leave))
