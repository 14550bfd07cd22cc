"""z-points → images with a model's decoder, images → z-points with its encoder, and the
encode∘decode round trip."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from latentatlas.models import TorchLatentModel, as_latent_model
from latentatlas.models.tensors import to_tensor, to_uint8


@torch.inference_mode()
def _map_batches(
    model: TorchLatentModel,
    z: np.ndarray,
    out: Any,
    fn: Callable[[torch.Tensor], Any],
    batch_size: int,
    progress: bool,
    desc: str,
) -> Any:
    """``fn`` of each batch of ``z`` into ``out``: one array, or a tuple of arrays when ``fn``
    returns a tuple."""
    device = model.device
    steps = range(0, len(z), batch_size)
    for start in tqdm(steps, desc=desc, unit="batch", disable=not progress or len(steps) < 4):
        # A copy: z may be a read-only memmap, which torch.from_numpy warns about.
        batch = torch.from_numpy(np.array(z[start : start + batch_size])).to(device)
        got = fn(batch)
        pairs = zip(out, got, strict=True) if isinstance(out, tuple) else [(out, got)]
        for array, part in pairs:
            array[start : start + len(batch)] = part
    return out


def decode(model: Any, z: np.ndarray, batch_size: int = 256, progress: bool = False) -> np.ndarray:
    """float (n, N) z-points → uint8 (n, H, W, 3) images (grey models' images as RGB).

    ``model``: a loaded :class:`~latentatlas.models.TorchLatentModel` or a ConvAutoencoder."""
    model = as_latent_model(model)
    z = np.asarray(z, dtype=np.float32)
    size = model.image_size
    out = np.empty((len(z), size, size, 3), dtype=np.uint8)
    return _map_batches(
        model, z, out, lambda b: to_uint8(model.decode(b)), batch_size, progress, "decode"
    )


def reencode(
    model: Any, z: np.ndarray, batch_size: int = 256, progress: bool = False
) -> np.ndarray:
    """float (n, N) z → float (n, N) E(D(z)), without quantising the decoded images."""
    return decode_and_reencode(model, z, batch_size, progress)[1]


def decode_and_reencode(
    model: Any, z: np.ndarray, batch_size: int = 256, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`decode` and :func:`reencode` of the same z-points with one pass of the decoder:
    (uint8 (n, H, W, 3) images, float (n, N) E(D(z))), the numbers of calling both."""
    model = as_latent_model(model)
    z = np.asarray(z, dtype=np.float32)
    size = model.image_size
    images = np.empty((len(z), size, size, 3), dtype=np.uint8)
    out = (images, np.empty_like(z))

    def both(b: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        x = model.decode(b)
        return to_uint8(x), model.encode(x.clamp(0, 1)).float().cpu().numpy()

    return _map_batches(model, z, out, both, batch_size, progress, "re-encode")


@torch.inference_mode()
def encode_images(model: Any, images: np.ndarray) -> np.ndarray:
    """uint8 (n, H, W, 3) images at the model's size → float32 (n, N) z-points."""
    model = as_latent_model(model)
    x = to_tensor(np.asarray(images, dtype=np.uint8), model.device, model.channels)
    return np.ascontiguousarray(model.encode(x).float().cpu().numpy(), np.float32)
