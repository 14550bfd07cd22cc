"""Atomic outputs: a reader sees either the old file/directory or the complete new one.

Every write that matters (caches, stores, checkpoints, reports) goes through here, so the same
rules hold for every verb:

- outputs are built under a hidden temporary name that carries the owner (``pid@host``) and
  renamed into place at the end; a final rename never replaces an output that appeared meanwhile
  unless ``overwrite`` was asked for;
- replacing a directory is a swap: the old one is renamed aside, the new one renamed in, the old
  one removed; a swap killed half-way is finished or undone by the next run (:func:`recover`);
- leftovers of dead processes (temporary and set-aside copies) are removed on the next run; a
  process is known by its pid and start time, so a reused pid does not keep a leftover alive;
- :func:`check_output` refuses an output that is or holds one of the command's inputs, or that
  lies inside the installed latentatlas package; :func:`check_new` adds, before any work, an
  output that exists or cannot be written (a file in the way, a read-only mount);
- a write that fails without naming its file (a full disk) is re-raised naming it;
- :func:`check_space` refuses a write that cannot fit; :func:`run_lock` keeps two training runs
  out of one directory.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from latentatlas.core.errors import LatentAtlasError, OutputExists

LOCK_NAME = ".lock"
# Free space kept beyond an output's known size (headers, metadata, other writers).
SPACE_MARGIN = 8 << 20
# Fault injection for the tests: the process exits at once when it reaches this step.
FAULT_ENV = "LATENTATLAS_FAULT_AT"
_KINDS = (".tmp", ".old")


def _host() -> str:
    return "".join(c if c.isalnum() or c == "-" else "-" for c in socket.gethostname())[:32]


# The installed package: no verb writes inside it (its bundled assets are inputs of every
# `celeba64` verb).
PACKAGE = Path(__file__).resolve().parents[1]


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot ('' where /proc cannot tell)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # Field 22; the command name (field 2) is in parentheses and may hold spaces.
    return stat.rsplit(")", 1)[-1].split()[19]


def _owner() -> str:
    pid = os.getpid()
    start = _start_time(pid)
    return f"{pid}-{start}@{_host()}" if start else f"{pid}@{_host()}"


def _prefix(path: Path) -> str:
    # ".NAME.PID@HOST." + random + ".tmp|.old": whose leftover it is can be read back from the name.
    return f".{path.name}.{_owner()}."


def _fault(step: str) -> None:
    if os.environ.get(FAULT_ENV) == step:
        os._exit(86)


def _alive(owner: str) -> bool:
    """Whether the process that named a leftover may still run (other hosts: assume it does).

    ``PID-START@HOST``: a live process with that pid but another start time is a later process
    that reuses the pid, so the owner is gone. ``PID@HOST`` (no start time known) trusts the pid.
    """
    process, _, host = owner.partition("@")
    pid_text, _, start = process.partition("-")
    if host != _host() or not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if start:
        now = _start_time(int(pid_text))
        return not now or now == start
    return True


def leftovers(path: str | os.PathLike) -> list[tuple[Path, str, bool]]:
    """Temporary/set-aside copies of ``path`` beside it: (path, ".tmp" or ".old", owner alive)."""
    path = Path(path)
    start = f".{path.name}."
    found = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    for name in names:
        if not name.startswith(start) or not name.endswith(_KINDS):
            continue
        parts = name[len(start) :].split(".")
        if len(parts) != 3 or "@" not in parts[0]:
            continue  # not ours, or written before owners were recorded
        found.append((path.parent / name, "." + parts[2], _alive(parts[0])))
    return found


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)


def recover(path: str | os.PathLike) -> None:
    """Finish or undo what dead processes left beside ``path``.

    A swap killed after the old version went aside and before the new one came in leaves no
    ``path``: the set-aside copy is renamed back. Every other leftover of a dead process (a
    temporary build, a set-aside copy whose swap completed) is removed.
    """
    path = Path(path)
    dead = [(p, kind) for p, kind, alive in leftovers(path) if not alive]
    if not dead:
        return
    olds = sorted((p for p, kind in dead if kind == ".old"), key=lambda p: p.lstat().st_ctime)
    if olds and not os.path.lexists(path):
        try:
            os.rename(olds[-1], path)
            olds.pop()
        except OSError:
            pass  # someone else got there first; what is at path now wins
    for p, kind in dead:
        if os.path.lexists(p) and (kind == ".tmp" or p in olds):
            _remove(p)


def _existing_ancestor(path: Path) -> Path:
    p = path.absolute()
    while not os.path.lexists(p) and p != p.parent:
        p = p.parent
    return p


def check_writable(path: str | os.PathLike) -> None:
    """Refuse an output location that cannot be written: a file in the way, a read-only mount,
    no permission. Probes by creating (and removing) a file where the output will go."""
    path = Path(path)
    where = _existing_ancestor(path.parent)
    if not where.is_dir():
        raise LatentAtlasError(f"cannot write {path}: {where} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=_prefix(path), suffix=".tmp", dir=where)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise LatentAtlasError(
            f"cannot write {path}: {where} is not writable ({e.strerror})"
        ) from None


def _contains(outer: Path, inner: Path) -> bool:
    return outer == inner or outer in inner.parents


def resolved(path: str | os.PathLike) -> Path:
    """``Path(path).resolve()``, with a symlink loop as a one-line error."""
    try:
        return Path(path).resolve()
    except (RuntimeError, OSError) as e:  # RuntimeError: "Symlink loop" before Python 3.13
        raise LatentAtlasError(f"{path}: cannot be resolved ({e})") from None


def check_output(
    path: str | os.PathLike, inputs: Iterable[str | os.PathLike | None] = ()
) -> None:
    """Refuse an output that is or holds one of ``inputs`` (whatever ``--overwrite`` says), or
    that lies inside the installed latentatlas package."""
    target = resolved(path)
    if _contains(PACKAGE, target) or _contains(target, PACKAGE):
        raise LatentAtlasError(
            f"--out {path} is inside the installed latentatlas package ({PACKAGE}); "
            "choose another --out"
        )
    for item in inputs:
        if item is not None and os.path.lexists(item) and _contains(target, resolved(item)):
            raise LatentAtlasError(
                f"--out {path} would replace the input {item}; choose another --out"
            )


def check_new(
    path: str | os.PathLike, overwrite: bool, inputs: Iterable[str | os.PathLike | None] = ()
) -> None:
    """Everything that can be known about an output before the work starts: leftovers of dead
    runs are cleaned up, and an existing output (without ``overwrite``), an output that is or
    holds one of ``inputs`` or lies inside the package (:func:`check_output`), and an
    unwritable location are refused."""
    path = Path(path)
    recover(path)
    check_output(path, inputs)
    if os.path.lexists(path) and not overwrite:
        raise OutputExists(f"{path} already exists (pass --overwrite to replace it)")
    check_writable(path)


def check_space(path: str | os.PathLike, nbytes: int, what: str) -> None:
    """Refuse, before any work, an output of ``nbytes`` that the file system cannot hold."""
    where = _existing_ancestor(Path(path))
    free = shutil.disk_usage(where).free
    need = nbytes + nbytes // 100 + SPACE_MARGIN
    if free < need:
        raise LatentAtlasError(
            f"not enough disk space for {what}: needs {_mib(need)}, {where} has {_mib(free)} free"
        )


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_with(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(f)`` on a temp file beside ``path``, fsync it, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    recover(path)
    fd, tmp = tempfile.mkstemp(prefix=_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600; give the file the permissions a plain open() would have.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, LatentAtlasError) or e.errno is None:
            raise
        raise _naming(e, path) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _naming(e: OSError, path: Path) -> OSError:
    """``e`` itself when it names its file; else the same error naming ``path`` (a write() or
    fsync() on a full disk names none, and the user should learn which file did not fit)."""
    if e.filename is not None:
        return e
    return type(e)(e.errno, e.strerror or str(e), str(path))


def _newest_file(directory: Path) -> Path | None:
    """The most recently written file under ``directory``: the one a failed write was filling."""
    newest: tuple[int, Path] | None = None
    for p in directory.rglob("*"):
        try:
            mtime = p.lstat().st_mtime_ns
        except OSError:
            continue
        if p.is_file() and (newest is None or mtime >= newest[0]):
            newest = (mtime, p)
    return None if newest is None else newest[1]


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return write_with(path, lambda f: f.write(data))


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    return write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


@contextmanager
def atomic_dir(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Build a directory under a temporary name; it appears at ``path`` only if the block succeeds.

    With ``overwrite`` an existing ``path`` is replaced, but only once the new one is complete;
    without it, the final rename refuses a ``path`` that another run created meanwhile.
    """
    path = Path(path)
    recover(path)
    if os.path.lexists(path) and not overwrite:
        raise OutputExists(f"{path} already exists (pass --overwrite to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=_prefix(path), suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp creates 0700
    try:
        yield tmp
        _fault("built")
        if overwrite:
            _swap_in(tmp, path)
        else:
            try:
                _rename_noreplace(tmp, path)
            except (FileExistsError, OSError) as e:
                if e.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
                raise OutputExists(
                    f"{path} appeared while this run was writing it (another run?); "
                    "left as it is (pass --overwrite to replace it)"
                ) from None
    except OSError as e:
        # Named by its final path: the temporary folder is gone once this error is shown.
        where = None
        if not isinstance(e, LatentAtlasError) and e.errno is not None:
            where = _newest_file(tmp) if e.filename is None else Path(os.fsdecode(e.filename))
        shutil.rmtree(tmp, ignore_errors=True)
        if where is not None and _contains(tmp, where):
            e.filename = None
            raise _naming(e, path / where.relative_to(tmp)) from None
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(new: Path, path: Path) -> None:
    """Replace ``path`` by ``new``; at every instant either ``path`` or a set-aside ``.old`` copy
    (restored by :func:`recover`) holds a complete version."""
    if not os.path.lexists(path):
        os.rename(new, path)
        return
    old = path.parent / f"{_prefix(path)}{secrets.token_hex(4)}.old"
    os.rename(path, old)
    _fault("aside")
    os.rename(new, path)
    _fault("swapped")
    _remove(old)
    _fault("cleaned")


_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


def _rename_noreplace(src: Path, dst: Path) -> None:
    """``rename`` that fails with EEXIST instead of replacing ``dst`` (Linux renameat2)."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is not None:
        rc = renameat2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE)
        if rc == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(err, os.strerror(err), str(dst))
    # No renameat2 here: a check right before the rename leaves only a tiny window.
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
    os.rename(src, dst)


@contextmanager
def run_lock(directory: str | os.PathLike) -> Iterator[Path]:
    """Hold an exclusive lock on ``directory`` (a ``.lock`` file in it) for the block.

    ``flock`` locks die with their process, so a killed run never leaves a stale lock.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lock = directory / LOCK_NAME
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 100).decode(errors="replace").strip() or "another process"
            raise LatentAtlasError(
                f"{directory} is in use by another run (lock {lock} held by {holder})"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}@{_host()}\n".encode())  # for the message of a second run
        yield lock
    finally:
        os.close(fd)
