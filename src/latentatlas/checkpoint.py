"""Checkpoint files: the model config, weights and (for training runs) the state to resume."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import torch

from latentatlas import atomic
from latentatlas.errors import LatentAtlasError
from latentatlas.model import AEConfig, ConvAutoencoder
from latentatlas.pretrained import resolve

FORMAT = "latentatlas-checkpoint/1"
CHECKPOINT_NAME = "checkpoint.pt"


def checkpoint_path(path: str | os.PathLike) -> Path:
    """A checkpoint file, the checkpoint inside a run directory, or a bundled model's name."""
    path = resolve(path, "checkpoint")
    return path / CHECKPOINT_NAME if path.is_dir() else path


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` atomically: a kill mid-write leaves the previous checkpoint intact."""
    return atomic.write_with(path, lambda f: torch.save({"format": FORMAT, **state}, f))


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    path = checkpoint_path(path)
    if not path.is_file():
        raise LatentAtlasError(f"{path}: no such checkpoint")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # torch raises many types for damaged files
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LatentAtlasError(f"{path}: not a readable checkpoint ({first})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise LatentAtlasError(f"{path}: not a latentatlas checkpoint")
    return state


def load_model(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[ConvAutoencoder, dict]:
    """Rebuild the autoencoder from a checkpoint file alone; returns it in eval mode."""
    state = load_checkpoint(path, map_location=device)
    try:
        model = ConvAutoencoder(AEConfig.from_dict(state["model_config"]))
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0]
        raise LatentAtlasError(
            f"{checkpoint_path(path)}: inconsistent checkpoint ({first})"
        ) from None
    return model.to(device).eval(), state


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
