"""Bundled assets: an autoencoder trained on CelebA (64x64, N = 256) and its z-points.

``celeba64()`` loads both in one call. Every CLI verb also accepts the name ``celeba64`` where it
expects a checkpoint or a store path (a real file or folder of that name takes precedence); the
names are resolved by :mod:`latentatlas.core.bundled`, which this package re-exports.
How the assets were made is in ``celeba64/MODEL_CARD.md``; ``tools/build_pretrained.py``
rebuilds them from a training run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from latentatlas.core.bundled import (
    CHECKPOINT_FILE,
    NAMES,
    ROOT,
    STORE_DIR,
    bundled_checksums,
    bundled_dir,
    resolve,
)

if TYPE_CHECKING:
    from latentatlas.data.store import ZStore
    from latentatlas.models.autoencoder import ConvAutoencoder

__all__ = [
    "CHECKPOINT_FILE",
    "NAMES",
    "ROOT",
    "STORE_DIR",
    "bundled_checksums",
    "bundled_dir",
    "celeba64",
    "resolve",
]


def celeba64(device: str = "cpu") -> tuple[ConvAutoencoder, ZStore]:
    """The bundled CelebA autoencoder (in eval mode, float32) and its 10,000 z-points."""
    from latentatlas.data.store import load_store
    from latentatlas.models.checkpoint import load_model

    model, _ = load_model("celeba64", device)
    return model, load_store("celeba64", expected_dim=model.config.latent_dim)
