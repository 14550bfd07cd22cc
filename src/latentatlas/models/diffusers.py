"""diffusers' ``AutoencoderKL`` from a local folder (``config.json`` + safetensors weights).

z is the posterior mean, shifted by ``shift_factor`` (when the config has one) and multiplied by
``scaling_factor``: the latents a diffusion model sees, flattened (4 x 8 x 8 = 256 for 64-px
images of a Stable Diffusion VAE). Decoding undoes both. Nothing is ever downloaded: the folder
is read with ``local_files_only=True``. The store records ``scaling_factor`` and ``shift_factor``
(null for SD 1.x/2.x/SDXL's convention, z = mean x scaling_factor) beside ``latent_shape``
[C, H, W], which the atlas's spatial section and the spatial generator read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from latentatlas.core.errors import LatentAtlasError
from latentatlas.models.protocol import ModelSpec, TorchLatentModel

EXTRA_HINT = "pip install 'latentatlas[diffusers]'"
# Stable Diffusion's VAEs, the usual AutoencoderKL, were trained on images in [-1, 1].
DEFAULT_RANGE = (-1.0, 1.0)


def is_diffusers_folder(path: Path) -> bool:
    """A folder whose ``config.json`` names ``AutoencoderKL`` as its class."""
    config = path / "config.json"
    if not (path.is_dir() and config.is_file()):
        return False
    try:
        return json.loads(config.read_text()).get("_class_name") == "AutoencoderKL"
    except (OSError, ValueError, AttributeError):
        return False


def load_autoencoder_kl(spec: ModelSpec, device: torch.device) -> TorchLatentModel:
    from latentatlas.models.checkpoint import tensors_sha256

    label = spec.source
    try:
        from diffusers import AutoencoderKL
    except ImportError:
        raise LatentAtlasError(
            f"{label} is a diffusers AutoencoderKL, but diffusers is not installed ({EXTRA_HINT})"
        ) from None
    try:
        # low_cpu_mem_usage=False: that path needs accelerate, and warns without it.
        vae = AutoencoderKL.from_pretrained(
            spec.source, local_files_only=True, low_cpu_mem_usage=False
        )
    except Exception as e:  # diffusers raises OSError, ValueError, EnvironmentError...
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise LatentAtlasError(f"{label}: not a loadable AutoencoderKL ({first})") from None
    vae = vae.to(device).eval()
    cfg = vae.config
    scale = float(cfg.scaling_factor)
    configured_shift = getattr(cfg, "shift_factor", None)
    shift = 0.0 if configured_shift is None else float(configured_shift)

    def encode(x: torch.Tensor) -> torch.Tensor:
        return (vae.encode(x).latent_dist.mean - shift) * scale

    def decode(z: torch.Tensor) -> Any:
        return vae.decode(z / scale + shift).sample

    return TorchLatentModel(
        encode,
        decode,
        image_size=spec.image_size or int(cfg.sample_size),
        channels=spec.channels or int(cfg.in_channels),
        name=label,
        checksum=tensors_sha256({"model": vae.state_dict()}),
        device=device,
        input_range=spec.input_range or DEFAULT_RANGE,
        module=vae,
        # As configured: a null shift_factor says "z = mean x scaling_factor" (SD 1.x/2.x/SDXL).
        info={
            "scaling_factor": scale,
            "shift_factor": None if configured_shift is None else shift,
        },
    )
