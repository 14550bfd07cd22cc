"""A model and a z-point store used together (sample, path, compare): both loaded and checked
to come from the same model, in one place."""

from __future__ import annotations

import os
from typing import Any

from latentatlas.core.errors import LatentAtlasError
from latentatlas.data.store import ZStore, image_size, load_store
from latentatlas.models import ModelSpec, TorchLatentModel, load_latent_model
from latentatlas.models.tensors import resolve_device


def check_same_model(
    model: TorchLatentModel, store: ZStore, label: str, allow_mismatch: bool = False
) -> None:
    """Refuse a store whose ``store.json`` records another model than ``model``.

    Stores without a record (a bare ``.npy``, latents from elsewhere) are accepted as they are.
    """
    recorded = store.meta.get("model_sha256")
    if recorded is None or allow_mismatch:
        return
    if model.checksum != recorded:
        raise LatentAtlasError(
            f"{label} was encoded by the model with sha256 {recorded[:16]}…, but {model.name} "
            f"has sha256 {model.checksum[:16]}… (pass --allow-mismatch to use them together)"
        )


def load_model_and_store(
    checkpoint: str | os.PathLike | ModelSpec | TorchLatentModel,
    store: str | os.PathLike | ZStore,
    device: str = "auto",
    *,
    verify: bool = True,
    allow_mismatch: bool = False,
) -> tuple[TorchLatentModel, dict[str, Any], ZStore]:
    """The model (eval mode) and what a store records of it, and the store, checked to belong
    together. ``checkpoint`` is any model spec or an already loaded model."""
    if isinstance(checkpoint, TorchLatentModel):
        model = checkpoint
    else:
        # A factory model that declares no image size takes the one the store records.
        if isinstance(store, ZStore):
            size, where = store.meta.get("image_size"), "the store"
        else:
            size, where = image_size(store), f"the store {store}"
        model = load_latent_model(
            checkpoint,
            resolve_device(device),
            verify=verify,
            data_size=(size, where) if isinstance(size, int) else None,
        )
    if isinstance(store, ZStore):
        st, label = store, "the store"
    else:
        st = load_store(store, expected_dim=model.latent_dim, verify=verify)
        label = str(store)
    check_same_model(model, st, label, allow_mismatch)
    return model, model.info, st
