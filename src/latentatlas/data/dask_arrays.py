"""A store's z-points as a ``dask.array``, one task per chunk file or block of rows.

Each task reads its rows from the file by name, so a ``distributed`` worker on another machine
reads them itself (the store must be on a file system the workers share, at the same path, and
latentatlas installed there); a chunk file is checked against its recorded sha256 by the worker
that reads it. dask is imported on first use only: nothing else of latentatlas needs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from latentatlas.core import files
from latentatlas.core.errors import LatentAtlasError
from latentatlas.data.rows import BLOCK_BYTES, ChunkedZ, block_rows, file_offset
from latentatlas.data.store import NO_VERIFY_HINT, ZStore

if TYPE_CHECKING:
    import dask.array

DASK_BLOCK_BYTES = 4 * BLOCK_BYTES  # about 128 MiB a task: few tasks, bounded worker memory


def read_rows(path: str, start: int, stop: int, sha256: str | None = None) -> np.ndarray:
    """Rows ``start:stop`` of the ``.npy`` file ``path`` (all of it checked against ``sha256``
    first when given): what one dask task runs, wherever it runs."""
    if sha256 is not None:
        files.verify(Path(path).parent, {Path(path).name: sha256}, path, NO_VERIFY_HINT)
    return np.array(files.load_npy(path, mmap=True)[start:stop])


def store_to_dask(
    store: ZStore | Any, rows: int | None = None, verify: bool = True
) -> dask.array.Array:
    """The z-points of ``store`` (a :class:`ZStore` or its z) as a lazy ``(n, N)`` dask array.

    A chunked store gives one dask chunk per chunk file (each verified by its reader unless
    ``verify`` is false); a memory-mapped ``z.npy`` gives blocks of ``rows`` rows (about
    128 MiB by default) read from the file by each task; an array in memory is wrapped as it is.
    """
    try:
        import dask
        import dask.array as da
    except ImportError:
        raise LatentAtlasError(
            "the dask path needs dask (pip install 'latentatlas[dask]')"
        ) from None
    z = store.z if isinstance(store, ZStore) else store
    if isinstance(z, ChunkedZ) and len(z.paths) == len(z.chunks):
        files_rows = [
            (str(p), 0, len(c), s if verify else None)
            for p, c, s in zip(z.paths, z.chunks, z.sha256, strict=True)
        ]
    elif file_offset(z) is not None:
        step = rows or block_rows(z.shape[1] * z.itemsize, DASK_BLOCK_BYTES)
        files_rows = [
            (str(z.filename), s, min(s + step, len(z)), None) for s in range(0, len(z), step)
        ]
    else:
        z = np.asarray(z)
        step = rows or block_rows(z.shape[1] * z.itemsize, DASK_BLOCK_BYTES)
        return da.from_array(z, chunks=(step, z.shape[1]))
    blocks = [
        da.from_delayed(
            dask.delayed(read_rows, pure=True)(path, a, b, sha),
            shape=(b - a, z.shape[1]),
            dtype=z.dtype,
        )
        for path, a, b, sha in files_rows
    ]
    return da.concatenate(blocks, axis=0)

