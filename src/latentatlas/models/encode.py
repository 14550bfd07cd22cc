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

from latentatlas.core import atomic
from latentatlas.core.errors import LatentAtlasError
from latentatlas.data.cache import load_cache
from latentatlas.data.rows import RowReader, ZWriter, chunk_plan
from latentatlas.data.store import write_store_extras
from latentatlas.models import ModelSpec, TorchLatentModel, input_paths, load_latent_model
from latentatlas.models.distributed import Distributed, device_for_rank
from latentatlas.models.memory import batch_for_memory, forward_peak_bytes, held_bytes
from latentatlas.models.tensors import to_tensor

MB, GB = 1 << 20, 1 << 30
DEFAULT_MAX_MEMORY = 2 * GB


def encode(
    checkpoint: str | os.PathLike | ModelSpec | TorchLatentModel,
    cache_dir: str | os.PathLike,
    out: str | os.PathLike,
    batch_size: int = 256,
    device: str = "auto",
    overwrite: bool = False,
    progress: bool = True,
    verify: bool = True,
    max_memory: int | None = DEFAULT_MAX_MEMORY,
    chunk_rows: int | None = None,
) -> dict[str, Any] | None:
    """Write the z-points of every cached image to the store ``out``; returns its sidecar.

    ``checkpoint`` is any model spec (a checkpoint, run directory, bundled name, TorchScript
    file, ``package.module:factory`` as a :class:`ModelSpec`) or an already loaded model.

    The batch is ``batch_size`` images or fewer: as many as keep the process's peak memory (a
    GPU's, on a GPU) within ``max_memory`` bytes, from the activations of one image measured
    first (:mod:`latentatlas.models.memory`); None lifts the bound. Memory stays bounded
    whatever the cache's size too: images are read and z written one batch at a time, into one
    ``z.npy`` or, with ``chunk_rows``, chunk files of at most that many rows (the chunked
    layout of :mod:`latentatlas.data.store`).

    Under ``torchrun`` each process encodes a contiguous run of whole batches (the same batches
    as one process would, so z is bit-identical on one device type); with ``chunk_rows`` each
    writes its own chunk files (one a process when ``chunk_rows`` is at least its rows). Rank 0
    alone creates, checks and renames the store and returns the sidecar, the other ranks return
    None. The processes must share the file system of ``out``."""
    out = Path(out)
    ddp = Distributed(device_for_rank(device))
    try:
        return _encode(
            ddp,
            checkpoint,
            cache_dir,
            out,
            batch_size,
            device,
            overwrite,
            progress,
            verify,
            max_memory,
            chunk_rows,
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
    max_memory: int | None,
    chunk_rows: int | None,
) -> dict[str, Any] | None:
    with ddp.together():
        if batch_size < 1:
            raise LatentAtlasError(f"--batch-size must be positive, got {batch_size}")
        if chunk_rows is not None and chunk_rows < 1:
            raise LatentAtlasError(f"--chunk-rows must be positive, got {chunk_rows}")
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
            if max_memory is not None:
                batch_size = _batch_within(model, cache.images, batch_size, max_memory)
    # Every rank must cut the same batches: rank 0's measurement decides.
    batch_size = ddp.broadcast(batch_size)
    meta = {
        "model_sha256": model.checksum,
        **model.info,
        "model": model.spec.to_json() if model.spec else {"source": model.name},
        "latent_shape": list(model.latent_shape),
        "channels": model.channels,
        "image_size": cache.size,
        "cache": str(Path(cache_dir).resolve()),
        "source": cache.manifest.get("source"),
        "batch_size": batch_size,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    batches = -(-cache.n // batch_size)
    bounds = [min(batches * r // ddp.world * batch_size, cache.n) for r in range(ddp.world + 1)]
    mine = (bounds[ddp.rank], bounds[ddp.rank + 1])
    if chunk_rows is None:
        pieces = [("z.npy", 0, cache.n)]
    else:
        plan = chunk_plan(list(zip(bounds[:-1], bounds[1:], strict=True)), chunk_rows)
        pieces = [p for p in plan if mine[0] <= p[1] < mine[1]]
    # Every step that one rank alone may fail is followed by an all-reduce of the outcome (the
    # rename included), so a failure ends every rank with an error instead of a hang.
    error: Exception | None = None
    try:
        with ExitStack() as stack:
            tmp, writer = None, None
            with ddp.together():
                if ddp.main:
                    tmp = stack.enter_context(atomic.atomic_dir(out, overwrite=overwrite))
                    if chunk_rows is None:  # the one z.npy every rank writes into
                        writer = stack.enter_context(ZWriter(tmp, pieces, shape[1]))
            tmp = Path(ddp.broadcast(None if tmp is None else str(tmp)))
            with ddp.together():
                if writer is None:
                    writer = stack.enter_context(
                        ZWriter(tmp, pieces, shape[1], create=chunk_rows is not None)
                    )
                reader = stack.enter_context(closing(RowReader(cache.images)))
                with torch.inference_mode():
                    for start in tqdm(
                        range(*mine, batch_size),
                        desc="encode",
                        unit="batch",
                        disable=not (progress and ddp.main),
                    ):
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
                        writer.write(start, z)
                writer.close()
                chunks = writer.entries() if chunk_rows is not None else None
            if chunks is not None:
                chunks = [c for part in ddp.all_gather(chunks) for c in part]
            if ddp.main:
                write_store_extras(
                    tmp,
                    shape,
                    cache.ids,
                    cache.split,
                    cache.attributes,
                    cache.attribute_names,
                    meta,
                    chunks,
                )
    except Exception as e:
        error = e
    ddp.agree(error)
    return {"n": shape[0], "latent_dim": shape[1], **meta} if ddp.main else None


def _batch_within(
    model: TorchLatentModel, images: np.ndarray, cap: int, max_memory: int
) -> int:
    """The largest batch up to ``cap`` whose encode keeps this process within ``max_memory``
    bytes, measured on the cache's first image."""
    x = to_tensor(np.array(images[:1]), model.device, model.channels)
    # Besides the activations, a batch holds its images (uint8 rows, then float) and its z.
    per_image = (
        forward_peak_bytes(model.encode, x)
        + images[:1].nbytes
        + x.element_size() * x.nelement()
        + 8 * model.latent_dim
    )
    fixed = held_bytes(model.device)
    batch = batch_for_memory(per_image, fixed, max_memory, cap)
    if batch < 1:
        raise LatentAtlasError(
            f"--max-memory {max_memory / MB:,.0f} MB is too small: this process holds "
            f"{fixed / MB:,.0f} MB and one {images.shape[1]}px image needs about "
            f"{per_image / MB:,.1f} MB more to encode (pass a larger --max-memory)"
        )
    return batch
