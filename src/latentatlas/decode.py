"""z-points → images with a checkpoint's decoder, and the encode∘decode round trip."""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from latentatlas.model import ConvAutoencoder
from latentatlas.tensors import to_uint8


def _batches(n: int, batch_size: int, progress: bool, desc: str) -> range | tqdm:
    steps = range(0, n, batch_size)
    return tqdm(steps, desc=desc, unit="batch", disable=not progress or len(steps) < 4)


@torch.inference_mode()
def decode(
    model: ConvAutoencoder, z: np.ndarray, batch_size: int = 256, progress: bool = False
) -> np.ndarray:
    """float (n, N) z-points → uint8 (n, H, W, 3) images."""
    device = next(model.parameters()).device
    z = np.asarray(z, dtype=np.float32)
    size = model.config.image_size
    out = np.empty((len(z), size, size, 3), dtype=np.uint8)
    for start in _batches(len(z), batch_size, progress, "decode"):
        batch = torch.from_numpy(z[start : start + batch_size]).to(device)
        out[start : start + len(batch)] = to_uint8(model.decode(batch))
    return out


@torch.inference_mode()
def reencode(
    model: ConvAutoencoder, z: np.ndarray, batch_size: int = 256, progress: bool = False
) -> np.ndarray:
    """float (n, N) z → float (n, N) E(D(z)), without quantising the decoded images."""
    device = next(model.parameters()).device
    z = np.asarray(z, dtype=np.float32)
    out = np.empty_like(z)
    for start in _batches(len(z), batch_size, progress, "re-encode"):
        batch = torch.from_numpy(z[start : start + batch_size]).to(device)
        out[start : start + len(batch)] = model.encode(model.decode(batch)).float().cpu().numpy()
    return out
