"""A checkpoint and a z-point store used together (sample, path, compare): both loaded and
checked to come from the same model, in one place."""

from __future__ import annotations

import os
from typing import Any

from latentatlas.checkpoint import checkpoint_path, load_model
from latentatlas.errors import LatentAtlasError
from latentatlas.files import file_sha256
from latentatlas.model import ConvAutoencoder
from latentatlas.store import ZStore, load_store
from latentatlas.tensors import resolve_device


def check_same_model(
    checkpoint: str | os.PathLike, store: ZStore, label: str, allow_mismatch: bool = False
) -> None:
    """Refuse a store whose ``store.json`` records another model than ``checkpoint``.

    Stores without a record (a bare ``.npy``, latents from elsewhere) are accepted as they are.
    """
    recorded = store.meta.get("model_sha256")
    if recorded is None or allow_mismatch:
        return
    path = checkpoint_path(checkpoint)
    actual = file_sha256(path)
    if actual != recorded:
        raise LatentAtlasError(
            f"{label} was encoded by the model with sha256 {recorded[:16]}…, but {path} has "
            f"sha256 {actual[:16]}… (pass --allow-mismatch to use them together)"
        )


def load_model_and_store(
    checkpoint: str | os.PathLike,
    store: str | os.PathLike | ZStore,
    device: str = "auto",
    *,
    verify: bool = True,
    allow_mismatch: bool = False,
) -> tuple[ConvAutoencoder, dict[str, Any], ZStore]:
    """The model (eval mode) and its checkpoint state, and the store, checked to belong together."""
    model, state = load_model(checkpoint, resolve_device(device), verify=verify)
    if isinstance(store, ZStore):
        st, label = store, "the store"
    else:
        st = load_store(store, expected_dim=model.config.latent_dim, verify=verify)
        label = str(store)
    check_same_model(checkpoint, st, label, allow_mismatch)
    return model, state, st
