"""The one command that opens a written report, printed by every verb that writes one."""

from __future__ import annotations

import os
import shlex
import sys


def open_hint(path: str | os.PathLike) -> str:
    """``open: xdg-open DIR/index.html`` (``open`` on macOS, ``start`` on Windows)."""
    opener = {"darwin": "open", "win32": "start"}.get(sys.platform, "xdg-open")
    return f"open: {opener} {shlex.quote(os.fspath(path))}"
