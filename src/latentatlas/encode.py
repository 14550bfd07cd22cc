"""Encode an image cache into a z-point store with a model's encoder."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from latentatlas import atomic, files
from latentatlas.data.cache import load_cache
from latentatlas.errors import LatentAtlasError
from latentatlas.models import ModelSpec, TorchLatentModel, input_paths, load_latent_model
from latentatlas.store import write_store_extras
from latentatlas.tensors import resolve_device, to_tensor


def encode(
    checkpoint: str | os.PathLike | ModelSpec | TorchLatentModel,
    cache_dir: str | os.PathLike,
    out: str | os.PathLike,
    batch_size: int = 256,
    device: str = "auto",
    overwrite: bool = False,
    progress: bool = True,
    verify: bool = True,
) -> dict[str, Any]:
    """Write the z-points of every cached image to the store ``out``; returns its sidecar.

    ``checkpoint`` is any model spec (a checkpoint, run directory, bundled name, TorchScript
    file, ``package.module:factory`` as a :class:`ModelSpec`) or an already loaded model."""
    out = Path(out)
    if batch_size < 1:
        raise LatentAtlasError(f"--batch-size must be positive, got {batch_size}")
    loaded = isinstance(checkpoint, TorchLatentModel)
    atomic.check_new(
        out, overwrite, inputs=(cache_dir, *([] if loaded else input_paths(checkpoint)))
    )
    dev = resolve_device(device)
    model = load_latent_model(checkpoint, dev, verify=verify)
    dev = model.device
    cache = load_cache(cache_dir, verify=verify)
    if cache.size != model.image_size:
        raise LatentAtlasError(
            f"the model takes {model.image_size}px images but {cache_dir} holds "
            f"{cache.size}px (prepare it with --size {model.image_size})"
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
    shape = (cache.n, model.latent_dim)
    atomic.check_space(out, shape[0] * shape[1] * 4, f"{shape[0]} x {shape[1]} float32 z-points")
    with atomic.atomic_dir(out, overwrite=overwrite) as tmp:
        files.allocate_npy(tmp / "z.npy", np.float32, shape)
        z = np.lib.format.open_memmap(tmp / "z.npy", mode="r+")
        with torch.inference_mode():
            for start in tqdm(
                range(0, cache.n, batch_size), desc="encode", unit="batch", disable=not progress
            ):
                x = to_tensor(cache.images[start : start + batch_size], dev, model.channels)
                z[start : start + len(x)] = model.encode(x).float().cpu().numpy()
        if not np.isfinite(z).all():
            raise LatentAtlasError(f"{model.name}: the encoder produced NaN or inf z-points")
        z.flush()
        del z
        write_store_extras(
            tmp, shape, cache.ids, cache.split, cache.attributes, cache.attribute_names, meta
        )
    return {"n": shape[0], "latent_dim": shape[1], **meta}
