"""Payload files: sha256 checksums and their verification, safe ``.npy`` reading, and
pre-allocated memory maps (numpy only, no torch).

One checksum scheme everywhere: a mapping ``{relative path: sha256 hex}``, as in the bundled
assets' ``MANIFEST.json``. Stores keep it in ``store.json["sha256"]``, image caches in
``manifest.json["sha256"]``; a checkpoint, one file that is rewritten every epoch, carries the
sha256 of its own tensors inside (``checkpoint.py``).
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from latentatlas.core.errors import LatentAtlasError

NPY_MAGIC = b"\x93NUMPY"
CHUNK = 1 << 20


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def checksums(directory: str | os.PathLike, names: Iterable[str]) -> dict[str, str]:
    """``{name: sha256}`` of the files ``names`` under ``directory`` that exist."""
    directory = Path(directory)
    return {name: file_sha256(directory / name) for name in names if (directory / name).is_file()}


def verify_required(
    directory: str | os.PathLike,
    recorded: object,
    payload: Iterable[str],
    where: str,
    hint: str = "",
) -> None:
    """The rule of every folder that records its payload's checksums (stores, image caches):
    ``recorded`` must be a mapping from plain file names inside ``directory`` to sha256s that
    lists every file of ``payload`` present there, and each must match. Missing or partial
    checksums are refused like wrong ones (``hint`` says how to skip the check)."""
    directory = Path(directory)
    if not isinstance(recorded, Mapping) or not recorded:
        raise LatentAtlasError(f"{where} records no sha256 checksums of its files{hint}")
    for name in recorded:
        if not isinstance(name, str) or name in ("", ".", "..") or Path(name).name != name:
            raise LatentAtlasError(
                f"{where}: checksum key {name!r} is not a file name inside {directory}{hint}"
            )
    unlisted = [name for name in payload if (directory / name).exists() and name not in recorded]
    if unlisted:
        raise LatentAtlasError(f"{where} records no sha256 of {unlisted[0]}{hint}")
    verify(directory, recorded, where, hint)


def verify(
    directory: str | os.PathLike, recorded: Mapping[str, str], where: str, hint: str = ""
) -> None:
    """Raise a one-line error naming the first file whose sha256 differs from ``recorded``."""
    directory = Path(directory)
    if not isinstance(recorded, Mapping):
        raise LatentAtlasError(f"{where}: its recorded checksums are not a mapping")
    for name, expected in recorded.items():
        path = directory / name
        if not path.is_file():
            raise LatentAtlasError(f"{path}: missing (listed in {where})")
        actual = file_sha256(path)
        if actual != expected:
            raise LatentAtlasError(
                f"{path} is damaged: sha256 {actual[:12]}… differs from {expected[:12]}… "
                f"recorded in {where}{hint}"
            )


def load_npy(path: str | os.PathLike, mmap: bool = False) -> np.ndarray:
    """``np.load`` for numbers only, with a one-line reason for anything else."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            magic = f.read(len(NPY_MAGIC))
    except OSError as e:
        raise LatentAtlasError(f"{path}: unreadable ({e.strerror})") from None
    if magic != NPY_MAGIC:
        what = "it is empty" if not magic else "no .npy header"
        raise LatentAtlasError(f"{path}: not a .npy file ({what})")
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        reason = str(e).split(". ")[0].strip() or type(e).__name__
        if "pickled" in reason:
            reason = "it holds Python objects, not numbers"
        raise LatentAtlasError(f"{path}: not a readable .npy array ({reason})") from None


def allocate_npy(path: str | os.PathLike, dtype: type | np.dtype, shape: tuple[int, ...]) -> None:
    """Create an ``.npy`` file of ``shape`` with every block allocated on disk.

    ``open_memmap`` alone makes a sparse file: on a full disk the first write into a hole then
    kills the process with SIGBUS. Allocating up front turns that into an ``OSError`` (ENOSPC)
    before any work.
    """
    dtype = np.dtype(dtype)
    header = {
        "descr": np.lib.format.dtype_to_descr(dtype),
        "fortran_order": False,
        "shape": tuple(int(s) for s in shape),
    }
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        f.flush()
        total = f.tell() + nbytes
        if total > 0:
            try:
                os.posix_fallocate(f.fileno(), 0, total)
            except OSError as e:
                if e.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                    raise OSError(e.errno, e.strerror, str(path)) from None
                f.truncate(total)  # no fallocate here: a sparse file is the best we can do
