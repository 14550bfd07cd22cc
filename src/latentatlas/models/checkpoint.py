"""Checkpoint files: the model config, weights and (for training runs) the state to resume.

Each checkpoint carries the sha256 of everything else it holds (``sha256``: the config, the
metadata, every tensor), checked on load, so a flipped bit anywhere (a weight, or the config's
``negative_slope``) is an error rather than a silently different model.

Checkpoints written before that field existed are refused with a line that says how to re-save
them (:func:`resave_checkpoint`, ``tools/resave_checkpoint.py``), unless a checksum of the whole
file stands in for it: the bundled model's ``MANIFEST.json``. ``--no-verify`` loads either.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import torch

from latentatlas.core import atomic, files
from latentatlas.core.bundled import bundled_checksums, resolve
from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.files import file_sha256
from latentatlas.models.autoencoder import AEConfig, ConvAutoencoder

FORMAT = "latentatlas-checkpoint/1"
CHECKPOINT_NAME = "checkpoint.pt"
NO_VERIFY_HINT = " (pass --no-verify to load it anyway)"
# Fields of the file that are not part of the state it checksums: the checksums themselves
# (tensors_sha256: what checkpoints recorded before ``sha256``).
CHECKSUM_KEYS = ("sha256", "tensors_sha256")
__all__ = [
    "file_sha256",
    "load_checkpoint",
    "load_model",
    "resave_checkpoint",
    "save_checkpoint",
    "state_sha256",
    "tensors_sha256",
]


def checkpoint_path(path: str | os.PathLike) -> Path:
    """A checkpoint file, the checkpoint inside a run directory, or a bundled model's name."""
    path = resolve(path, "checkpoint")
    return path / CHECKPOINT_NAME if path.is_dir() else path


def _feed(h: Any, name: str, obj: Any, everything: bool) -> None:
    """Hash ``obj`` under ``name``: tensors by (name, dtype, shape, bytes); with ``everything``
    also the containers' sizes and every other value (numbers, strings, None, a torch.Size) by
    type and exact repr."""
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous().reshape(-1)
        h.update(f"{name}:{t.dtype}:{tuple(obj.shape)};".encode())
        h.update(t.view(torch.uint8).numpy())
    elif isinstance(obj, (dict, list, tuple)):
        items = (
            [(str(k), obj[k]) for k in sorted(obj, key=str)]
            if isinstance(obj, dict)
            else [(str(i), item) for i, item in enumerate(obj)]
        )
        if everything:
            h.update(f"{name}:{type(obj).__name__}{len(obj)};".encode())
        for key, item in items:
            _feed(h, f"{name}.{key}", item, everything)
    elif everything:
        h.update(f"{name}={type(obj).__name__}:{obj!r};".encode())


def tensors_sha256(state: dict[str, Any]) -> str:
    """sha256 of the tensors of the weights and optimizer state (name, dtype, shape, bytes): a
    model's identity, whatever file it came from (stores record it for non-checkpoint models)."""
    h = hashlib.sha256()
    for key in ("model", "optimizer"):
        _feed(h, key, state.get(key), everything=False)
    return h.hexdigest()


def state_sha256(state: dict[str, Any]) -> str:
    """sha256 of everything a checkpoint holds but its checksums: config, metadata, tensors."""
    h = hashlib.sha256()
    _feed(h, "", {k: v for k, v in state.items() if k not in CHECKSUM_KEYS}, everything=True)
    return h.hexdigest()


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` atomically: a kill mid-write leaves the previous checkpoint intact.

    Serialised in memory first, so a full disk surfaces as a plain ``OSError`` of the write.
    """
    state = {"format": FORMAT, **{k: v for k, v in state.items() if k not in CHECKSUM_KEYS}}
    buffer = io.BytesIO()
    torch.save({**state, "sha256": state_sha256(state)}, buffer)
    return atomic.write_bytes(path, buffer.getbuffer())


def resave_checkpoint(path: str | os.PathLike, out: str | os.PathLike | None = None) -> Path:
    """Re-save a checkpoint written before whole-state checksums (at ``out``, default in place)
    with one. Its old tensor checksum, when it has one, must still hold."""
    state = load_checkpoint(path, verify=False)
    recorded = state.get("tensors_sha256")
    if recorded is not None and tensors_sha256(state) != recorded:
        raise LatentAtlasError(
            f"{checkpoint_path(path)} is damaged: its weights differ from their recorded sha256"
        )
    return save_checkpoint(checkpoint_path(path) if out is None else out, state)


def _sniff(path: Path) -> str | None:
    """Why ``path`` cannot be a PyTorch file, from its first bytes; None when it may be one."""
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        return "it is empty"
    if head.startswith(files.NPY_MAGIC):
        return "it is a NumPy .npy array, not a checkpoint"
    if not head.startswith((b"PK\x03\x04", b"\x80")):
        return "it is not a PyTorch file"
    return None


def load_checkpoint(
    path: str | os.PathLike, map_location: str | torch.device = "cpu", verify: bool = True
) -> dict:
    """Load and check a checkpoint; with ``verify`` its recorded checksums are checked too."""
    path = checkpoint_path(path)
    if not path.is_file():
        raise LatentAtlasError(f"{path}: no such checkpoint")
    reason = _sniff(path)
    if reason:
        raise LatentAtlasError(f"{path}: not a readable checkpoint ({reason})")
    bundled = bundled_checksums(path) if verify else {}
    if bundled:  # the whole file's sha256: it covers everything the file holds
        files.verify(path.parent, bundled, "the bundled MANIFEST.json")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # torch raises many types for damaged files
        text = str(e).strip()
        first = text.splitlines()[0] if text else type(e).__name__
        if "weights_only" in text or "Weights only" in text:
            # PyTorch's own advice here is to load with weights_only=False, i.e. to run
            # whatever code the file holds: never pass that on.
            first = "it holds Python objects besides tensors and plain data; refused"
        raise LatentAtlasError(f"{path}: not a readable checkpoint ({first})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise LatentAtlasError(f"{path}: not a latentatlas checkpoint")
    if verify and not bundled:
        _verify_state(path, state)
    return state


def _verify_state(path: Path, state: dict[str, Any]) -> None:
    recorded = state.get("sha256")
    if recorded is None:
        raise LatentAtlasError(
            f"{path} was written before checkpoints recorded the sha256 of all they hold; "
            f"re-save it with python tools/resave_checkpoint.py {path} (or "
            "latentatlas.models.checkpoint.resave_checkpoint), or pass --no-verify to load it"
        )
    if state_sha256(state) != recorded:
        raise LatentAtlasError(
            f"{path} is damaged: its contents differ from their recorded sha256{NO_VERIFY_HINT}"
        )


def load_model(
    path: str | os.PathLike, device: str | torch.device = "cpu", verify: bool = True
) -> tuple[ConvAutoencoder, dict]:
    """Rebuild the autoencoder from a checkpoint file alone; returns it in eval mode."""
    state = load_checkpoint(path, map_location=device, verify=verify)
    try:
        model = ConvAutoencoder(AEConfig.from_dict(state["model_config"]))
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0]
        raise LatentAtlasError(
            f"{checkpoint_path(path)}: inconsistent checkpoint ({first})"
        ) from None
    return model.to(device).eval(), state
