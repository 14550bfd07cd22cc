"""Moving images between the uint8 NHWC arrays of caches and the float tensors of the model."""

from __future__ import annotations

import numpy as np
import torch

from latentatlas.core.errors import LatentAtlasError


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else the CPU; anything else is passed to torch."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise LatentAtlasError(f"unknown device {name!r} ({e})") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise LatentAtlasError(f"device {name!r} asked for, but CUDA is not available here")
    return device


# ITU-R BT.601 luma: what PIL's convert("L") uses, so grey models see the usual grey.
LUMA = (0.299, 0.587, 0.114)


def to_tensor(images: np.ndarray, device: torch.device, channels: int = 3) -> torch.Tensor:
    """uint8 (B, H, W, 3) → float (B, C, H, W) in [0, 1]; ``channels=1`` converts to grey.

    The permuted NHWC buffer already is channels-last memory, the faster layout for these convs.
    """
    if not (images.flags.writeable and images.flags.c_contiguous):
        images = np.array(images, dtype=np.uint8)  # memmap slices are read-only views
    x = torch.from_numpy(images).to(device, non_blocking=True)
    x = x.permute(0, 3, 1, 2).float().div_(255.0)
    if channels == 1:
        x = (x * torch.tensor(LUMA, device=x.device).view(1, 3, 1, 1)).sum(1, keepdim=True)
    return x


def to_tensor_resized(
    images: np.ndarray, size: int, device: torch.device | None = None
) -> torch.Tensor:
    """uint8 (B, H, W, 3) → float (B, 3, size, size) in [0, 1], unchanged when already
    size × size. Resized bilinearly *with antialiasing*: plain bilinear downscaling aliases fine
    texture (noise, hair) into patterns, and a cache's own downscaling averages pixels too."""
    import torch.nn.functional as F

    x = to_tensor(images, device or torch.device("cpu"))
    if x.shape[-2:] != (size, size):
        x = F.interpolate(
            x, size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )
    return x


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """float (B, C, H, W) in [0, 1] → uint8 (B, H, W, 3); grey (C = 1) repeated to RGB."""
    x = x.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    return x.permute(0, 2, 3, 1).cpu().numpy()
