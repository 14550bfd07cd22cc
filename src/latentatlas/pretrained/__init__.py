"""Bundled assets: an autoencoder trained on CelebA (64x64, N = 256) and its z-points.

``celeba64()`` loads both in one call. Every CLI verb also accepts the name ``celeba64`` where it
expects a checkpoint or a store path (a real file or folder of that name takes precedence).
How the assets were made is in ``celeba64/MODEL_CARD.md``; ``tools/build_pretrained.py``
rebuilds them from a training run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from latentatlas.model import ConvAutoencoder
    from latentatlas.store import ZStore

ROOT = Path(__file__).resolve().parent
NAMES = ("celeba64",)
CHECKPOINT_FILE = "model.pt"
STORE_DIR = "store"


def bundled_dir(name: str) -> Path:
    if name not in NAMES:
        raise ValueError(f"no bundled assets named {name!r}; choose from {', '.join(NAMES)}")
    return ROOT / name


def resolve(path: str | os.PathLike, kind: str) -> Path:
    """``path`` itself, or the bundled checkpoint/store when ``path`` is a bundled name that is
    not an existing file or folder. ``kind`` is ``"checkpoint"`` or ``"store"``."""
    p = Path(path)
    if str(path) in NAMES and not p.exists():
        return bundled_dir(str(path)) / (CHECKPOINT_FILE if kind == "checkpoint" else STORE_DIR)
    return p


def bundled_checksums(path: str | os.PathLike) -> dict[str, str]:
    """The ``MANIFEST.json`` sha256s of a bundled file or folder, keyed relative to where
    :func:`latentatlas.files.verify` looks: beside a file, inside a folder. Empty elsewhere."""
    import json

    p = Path(path).resolve()
    if ROOT not in p.parents:
        return {}
    bundle = ROOT / p.relative_to(ROOT).parts[0]
    manifest = json.loads((bundle / "MANIFEST.json").read_text())
    rel = p.relative_to(bundle).as_posix()
    if p.is_dir():
        return {k[len(rel) + 1 :]: v for k, v in manifest.items() if k.startswith(rel + "/")}
    return {p.name: manifest[rel]} if rel in manifest else {}


def celeba64(device: str = "cpu") -> tuple[ConvAutoencoder, ZStore]:
    """The bundled CelebA autoencoder (in eval mode, float32) and its 10,000 z-points."""
    from latentatlas.checkpoint import load_model
    from latentatlas.store import load_store

    model, _ = load_model("celeba64", device)
    return model, load_store("celeba64", expected_dim=model.config.latent_dim)
