"""Big arrays on disk read and written a block of rows at a time (numpy only, no torch).

A z-point store keeps its (n, N) z-points in one ``z.npy`` or in chunk files ``z/00000.npy …``
(one a worker on another machine can read). Reading a memory-mapped file page by page keeps
every page it touched resident in the process, so a scan over a 4 GB store would grow the
process by 4 GB: :class:`RowReader` reads rows with positioned file reads instead, and
:func:`iter_blocks` walks either layout that way. :class:`ChunkedZ` shows chunk files as one
lazily concatenated (n, N) array; :class:`ZWriter` fills z files block by block, so the z of an
encode is never held whole.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from latentatlas.core import files
from latentatlas.core.errors import LatentAtlasError

CHUNK_DIR = "z"
BLOCK_BYTES = 1 << 25  # rows per block of a scan: about 32 MiB of them


def chunk_name(index: int) -> str:
    """The store-relative name of chunk ``index``: ``z/00000.npy``."""
    return f"{CHUNK_DIR}/{index:05d}.npy"


def block_rows(row_bytes: int, block_bytes: int = BLOCK_BYTES) -> int:
    """Rows of ``row_bytes`` each in a block of about ``block_bytes``."""
    return max(1, block_bytes // max(1, row_bytes))


def npy_layout(path: str | os.PathLike) -> tuple[int, tuple[int, ...], np.dtype, bool]:
    """(offset of the data, shape, dtype, C order) of the ``.npy`` file at ``path``; mapping it
    reads only its header."""
    m = np.lib.format.open_memmap(path, mode="r")
    try:
        return m.offset, m.shape, m.dtype, m.flags.c_contiguous
    finally:
        del m


def file_offset(array: Any) -> int | None:
    """Where the data of ``array`` starts in its file, when it is a memory map of a whole
    C-order ``.npy`` file (so row i lies at that offset + i rows); None for anything else."""
    filename = getattr(array, "filename", None)
    if not (isinstance(array, np.memmap) and filename and array.flags.c_contiguous):
        return None
    offset, shape, dtype, c_order = npy_layout(filename)
    # Only the whole file's array maps rows to file offsets this simply (not a view).
    return offset if shape == array.shape and dtype == array.dtype and c_order else None


class RowReader:
    """Rows of an array read with plain file reads when it is a whole memory-mapped ``.npy``
    file (pages read this way are not mapped into the process), by slicing otherwise."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        self.fd: int | None = None
        offset = file_offset(array)
        if offset is not None:
            self.fd, self.offset = os.open(array.filename, os.O_RDONLY), offset
            self.row_bytes = int(np.prod(array.shape[1:], dtype=np.int64)) * array.itemsize

    def rows(self, start: int, stop: int) -> np.ndarray:
        stop = min(stop, len(self.array))
        if self.fd is None:
            return np.array(self.array[start:stop])
        out = np.empty((max(0, stop - start), *self.array.shape[1:]), self.array.dtype)
        want = out.nbytes
        got = os.preadv(self.fd, [memoryview(out).cast("B")], self.offset + start * self.row_bytes)
        if got != want:
            raise LatentAtlasError(f"{self.array.filename}: short read ({got} of {want} bytes)")
        return out

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> RowReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ChunkedZ:
    """Chunk arrays (usually memory maps) seen as one (n, N) array, concatenated lazily.

    Indexing returns plain arrays and reads only the chunks the rows fall in; ``np.asarray``
    concatenates everything (what a small store wants). ``paths`` and ``sha256`` name the chunk
    files, for readers elsewhere (:func:`latentatlas.data.dask_arrays.store_to_dask`).
    """

    def __init__(
        self,
        chunks: Sequence[np.ndarray],
        paths: Sequence[Path] = (),
        sha256: Sequence[str | None] = (),
    ) -> None:
        if not chunks:
            raise ValueError("ChunkedZ needs at least one chunk")
        dims = {c.shape[1:] for c in chunks}
        dtypes = {c.dtype for c in chunks}
        if len(dims) != 1 or len(dtypes) != 1 or chunks[0].ndim != 2:
            raise ValueError("chunks must be 2-D arrays of one width and one dtype")
        self.chunks = list(chunks)
        self.paths = list(paths)
        self.sha256 = list(sha256) or [None] * len(self.chunks)
        self.starts = np.cumsum([0] + [len(c) for c in self.chunks])
        self.shape = (int(self.starts[-1]), int(self.chunks[0].shape[1]))
        self.dtype = self.chunks[0].dtype

    ndim = 2

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"ChunkedZ(shape={self.shape}, dtype={self.dtype}, chunks={len(self.chunks)})"

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = np.concatenate([np.asarray(c) for c in self.chunks])
        return out if dtype is None else out.astype(dtype, copy=False)

    def __getitem__(self, key: Any) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        if len(key) > 2:
            raise IndexError(f"too many indices for a 2-D array: {len(key)}")
        rows, cols = (*key, slice(None))[:2]
        n = self.shape[0]
        if isinstance(rows, (int, np.integer)):
            i = int(rows) + (n if rows < 0 else 0)
            if not 0 <= i < n:
                raise IndexError(f"row {rows} out of range for {n} rows")
            c = int(np.searchsorted(self.starts, i, side="right")) - 1
            return np.asarray(self.chunks[c][i - self.starts[c]][cols])
        if isinstance(rows, slice):
            start, stop, step = rows.indices(n)
            if step == 1:
                return self._contiguous(start, max(start, stop), cols)
            idx = np.arange(start, stop, step)
        else:
            idx = np.asarray(rows)
            if idx.dtype == bool:
                if idx.shape != (n,):
                    raise IndexError(f"boolean index of shape {idx.shape} for {n} rows")
                idx = np.flatnonzero(idx)
            elif not np.issubdtype(idx.dtype, np.integer) or idx.ndim != 1:
                raise IndexError("rows must be an int, a slice, or a 1-D int or bool array")
            idx = np.where(idx < 0, idx + n, idx)
            if idx.size and (idx.min() < 0 or idx.max() >= n):
                raise IndexError(f"row index out of range for {n} rows")
        if not isinstance(cols, (int, np.integer, slice)):
            # Two index arrays pair up element by element: gather the rows, then index them.
            return self._gather(idx, slice(None))[:, cols]
        return self._gather(idx, cols)

    def _contiguous(self, start: int, stop: int, cols: Any) -> np.ndarray:
        pieces = [
            np.asarray(chunk[max(start, lo) - lo : min(stop, hi) - lo][:, cols])
            for chunk, lo, hi in zip(self.chunks, self.starts[:-1], self.starts[1:], strict=True)
            if max(start, lo) < min(stop, hi)
        ]
        return np.concatenate(pieces) if pieces else np.asarray(self.chunks[0][:0][:, cols])

    def _gather(self, idx: np.ndarray, cols: Any) -> np.ndarray:
        order = np.argsort(idx, kind="stable")
        ranked = idx[order]
        owner = np.searchsorted(self.starts, ranked, side="right") - 1
        pieces = [
            np.asarray(self.chunks[c][ranked[owner == c] - self.starts[c]][:, cols])
            for c in range(len(self.chunks))
            if (owner == c).any()
        ]
        if not pieces:
            return np.asarray(self.chunks[0][:0][:, cols])
        ranked_rows = np.concatenate(pieces)
        out = np.empty_like(ranked_rows)
        out[order] = ranked_rows
        return out


def iter_blocks(z: Any, rows: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, rows) blocks of ``z`` in order, each about ``rows`` rows (32 MiB by default),
    never crossing a chunk: one pass over a store in bounded memory, whatever its layout."""
    parts = z.chunks if isinstance(z, ChunkedZ) else [z]
    starts = z.starts if isinstance(z, ChunkedZ) else [0]
    for first, part in zip(starts, parts, strict=False):
        step = rows or block_rows(int(np.prod(part.shape[1:], dtype=np.int64)) * part.itemsize)
        with RowReader(part) as reader:
            for start in range(0, len(part), step):
                yield int(first) + start, reader.rows(start, start + step)


def chunk_plan(ranges: Sequence[tuple[int, int]], chunk_rows: int) -> list[tuple[str, int, int]]:
    """(chunk name, first row, stop row) of each chunk: every row range (one a process of a
    torchrun writes) cut into chunks of at most ``chunk_rows`` rows, numbered in row order."""
    bounds = [
        (lo, min(lo + chunk_rows, stop))
        for start, stop in ranges
        for lo in range(start, stop, chunk_rows)
    ]
    return [(chunk_name(i), lo, hi) for i, (lo, hi) in enumerate(bounds)]


class ZWriter:
    """Positioned writes of z rows into the files ``pieces`` of a store: ``(store-relative
    name, first row, stop row)``, one ``z.npy`` or chunk files. ``create`` allocates them first
    (on disk, so a full disk fails here and not with SIGBUS later); processes of one torchrun
    share a ``z.npy`` that rank 0 creates."""

    def __init__(
        self,
        directory: Path,
        pieces: Sequence[tuple[str, int, int]],
        dim: int,
        create: bool = True,
        dtype: type = np.float32,
    ) -> None:
        self.directory, self.dim, self.dtype = Path(directory), dim, np.dtype(dtype)
        self.pieces = list(pieces)
        self.fds: list[int] = []
        self.offsets: list[int] = []
        for name, start, stop in self.pieces:
            path = self.directory / name
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
                files.allocate_npy(path, self.dtype, (stop - start, dim))
            self.offsets.append(npy_layout(path)[0])
            self.fds.append(os.open(path, os.O_RDWR))

    def write(self, start: int, z: np.ndarray) -> None:
        """Rows ``start …`` of z (each must fall in one of this writer's pieces)."""
        z = np.ascontiguousarray(z, self.dtype)
        row_bytes = self.dim * self.dtype.itemsize
        stop = start + len(z)
        for (name, lo, hi), fd, offset in zip(self.pieces, self.fds, self.offsets, strict=True):
            a, b = max(start, lo), min(stop, hi)
            if a >= b:
                continue
            data = z[a - start : b - start].tobytes()
            if os.pwrite(fd, data, offset + (a - lo) * row_bytes) != len(data):
                raise OSError(f"{self.directory / name}: short write")

    def close(self) -> None:
        """Flush every file to disk and close it."""
        while self.fds:
            fd = self.fds.pop()
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def entries(self) -> list[dict[str, Any]]:
        """The ``chunks`` records of the written files: name, rows and sha256."""
        return [
            {"file": name, "rows": stop - start, "sha256": files.file_sha256(self.directory / name)}
            for name, start, stop in self.pieces
        ]

    def __enter__(self) -> ZWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
