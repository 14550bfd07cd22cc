"""Encode an image cache into a z-point store with a model's encoder."""

from __future__ import annotations

import os
from contextlib import ExitStack, closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from latentatlas.core import atomic, files
from latentatlas.core.errors import LatentAtlasError
from latentatlas.data.cache import load_cache
from latentatlas.data.store import write_store_extras
from latentatlas.models import ModelSpec, TorchLatentModel, input_paths, load_latent_model
from latentatlas.models.distributed import Distributed, device_for_rank
from latentatlas.models.tensors import to_tensor


def encode(
    checkpoint: str | os.PathLike | ModelSpec | TorchLatentModel,
    cache_dir: str | os.PathLike,
    out: str | os.PathLike,
    batch_size: int = 256,
    device: str = "auto",
    overwrite: bool = False,
    progress: bool = True,
    verify: bool = True,
) -> dict[str, Any] | None:
    """Write the z-points of every cached image to the store ``out``; returns its sidecar.

    ``checkpoint`` is any model spec (a checkpoint, run directory, bundled name, TorchScript
    file, ``package.module:factory`` as a :class:`ModelSpec`) or an already loaded model.

    Under ``torchrun`` each process encodes a contiguous run of whole batches (the same batches
    as one process would, so z is bit-identical on one device type); rank 0 alone creates, checks
    and renames the store and returns the sidecar, the other ranks return None. The processes
    must share the file system of ``out``. Memory stays bounded whatever the cache's size: images
    are read and z written one batch at a time."""
    out = Path(out)
    ddp = Distributed(device_for_rank(device))
    try:
        return _encode(
            ddp, checkpoint, cache_dir, out, batch_size, device, overwrite, progress, verify
        )
    finally:
        ddp.close()


def _encode(
    ddp: Distributed,
    checkpoint: str | os.PathLike | ModelSpec | TorchLatentModel,
    cache_dir: str | os.PathLike,
    out: Path,
    batch_size: int,
    device: str,
    overwrite: bool,
    progress: bool,
    verify: bool,
) -> dict[str, Any] | None:
    with ddp.together():
        if batch_size < 1:
            raise LatentAtlasError(f"--batch-size must be positive, got {batch_size}")
        loaded = isinstance(checkpoint, TorchLatentModel)
        if ddp.main:
            atomic.check_new(
                out, overwrite, inputs=(cache_dir, *([] if loaded else input_paths(checkpoint)))
            )
        cache = load_cache(cache_dir, verify=verify)
        model = load_latent_model(
            checkpoint,
            device_for_rank(device),
            verify=verify,
            data_size=(cache.size, f"the cache {cache_dir}"),
        )
        dev = model.device
        if cache.size != model.image_size:
            raise LatentAtlasError(
                f"the model takes {model.image_size}px images but {cache_dir} holds "
                f"{cache.size}px (prepare it with --size {model.image_size})"
            )
        shape = (cache.n, model.latent_dim)
        if ddp.main:
            atomic.check_space(
                out, shape[0] * shape[1] * 4, f"{shape[0]} x {shape[1]} float32 z-points"
            )
    meta = {
        "model_sha256": model.checksum,
        **model.info,
        "model": model.spec.to_json() if model.spec else {"source": model.name},
        "latent_shape": list(model.latent_shape),
        "channels": model.channels,
        "image_size": cache.size,
        "cache": str(Path(cache_dir).resolve()),
        "source": cache.manifest.get("source"),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    batches = -(-cache.n // batch_size)
    first, last = batches * ddp.rank // ddp.world, batches * (ddp.rank + 1) // ddp.world
    # Every step that one rank alone may fail is followed by an all-reduce of the outcome (the
    # rename included), so a failure ends every rank with an error instead of a hang.
    error: Exception | None = None
    try:
        with ExitStack() as stack:
            tmp = None
            with ddp.together():
                if ddp.main:
                    tmp = stack.enter_context(atomic.atomic_dir(out, overwrite=overwrite))
                    files.allocate_npy(tmp / "z.npy", np.float32, shape)
            tmp = Path(ddp.broadcast(None if tmp is None else str(tmp)))
            with ddp.together():
                reader = stack.enter_context(closing(_RowReader(cache.images)))
                with open(tmp / "z.npy", "r+b") as f, torch.inference_mode():
                    offset = _npy_layout(tmp / "z.npy")[0]
                    row_bytes = shape[1] * 4
                    for b in tqdm(
                        range(first, last),
                        desc="encode",
                        unit="batch",
                        disable=not (progress and ddp.main),
                    ):
                        start = b * batch_size
                        x = to_tensor(reader.rows(start, start + batch_size), dev, model.channels)
                        z = np.ascontiguousarray(model.encode(x).float().cpu().numpy(), np.float32)
                        if z.shape != (len(x), shape[1]):
                            raise LatentAtlasError(
                                f"{model.name}: the encoder gave z of shape {z.shape} for "
                                f"{len(x)} images, not {(len(x), shape[1])}"
                            )
                        # Checked batch by batch: the finished z is never read back whole.
                        if not np.isfinite(z).all():
                            raise LatentAtlasError(
                                f"{model.name}: the encoder produced NaN or inf z-points"
                            )
                        data = z.tobytes()
                        if os.pwrite(f.fileno(), data, offset + start * row_bytes) != len(data):
                            raise OSError(f"{tmp / 'z.npy'}: short write")
                    os.fsync(f.fileno())
            if ddp.main:
                write_store_extras(
                    tmp,
                    shape,
                    cache.ids,
                    cache.split,
                    cache.attributes,
                    cache.attribute_names,
                    meta,
                )
    except Exception as e:
        error = e
    ddp.agree(error)
    return {"n": shape[0], "latent_dim": shape[1], **meta} if ddp.main else None


def _npy_layout(path: str | os.PathLike) -> tuple[int, tuple[int, ...], np.dtype, bool]:
    """(offset of the data, shape, dtype, C order) of the ``.npy`` file at ``path``; mapping it
    reads only its header."""
    m = np.lib.format.open_memmap(path, mode="r")
    try:
        return m.offset, m.shape, m.dtype, m.flags.c_contiguous
    finally:
        del m


class _RowReader:
    """Rows of a memory-mapped ``.npy`` array read with plain file reads, so that pages already
    used do not stay mapped into this process: memmap slices keep every page they touched
    resident, and the process would grow with the cache."""

    def __init__(self, images: np.ndarray) -> None:
        self.images = images
        self.fd: int | None = None
        filename = getattr(images, "filename", None)
        if isinstance(images, np.memmap) and filename:
            offset, shape, dtype, c_order = _npy_layout(filename)
            # Only the whole file's array maps rows to file offsets this simply (not a view).
            if (
                shape == images.shape
                and dtype == images.dtype
                and c_order
                and images.flags.c_contiguous
            ):
                self.fd, self.offset = os.open(filename, os.O_RDONLY), offset
                self.row_bytes = int(np.prod(images.shape[1:], dtype=np.int64)) * images.itemsize

    def rows(self, start: int, stop: int) -> np.ndarray:
        stop = min(stop, len(self.images))
        if self.fd is None:
            return np.array(self.images[start:stop])
        out = np.empty((stop - start, *self.images.shape[1:]), self.images.dtype)
        want = out.nbytes
        got = os.preadv(self.fd, [memoryview(out).cast("B")], self.offset + start * self.row_bytes)
        if got != want:
            raise LatentAtlasError(f"{self.images.filename}: short read ({got} of {want} bytes)")
        return out

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
