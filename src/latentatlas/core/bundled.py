"""Bundled names (``celeba64``) → the files they stand for, in one place that imports nothing of
latentatlas, so that the loaders below (checkpoint, store) can resolve names without importing
:mod:`latentatlas.models.pretrained`, which imports them."""

from __future__ import annotations

import json
import os
from pathlib import Path

# The assets live in the pretrained package's folder (package data), next to its __init__.
ROOT = Path(__file__).resolve().parent.parent / "models" / "pretrained"
NAMES = ("celeba64",)
CHECKPOINT_FILE = "model.pt"
STORE_DIR = "store"
# The attribute judge trained on the bundle's real train images
# (latentatlas.verdict.judges.attributes).
ATTRIBUTE_JUDGE_FILE = "attribute_judge.pt"


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
    :func:`latentatlas.core.files.verify` looks: beside a file, inside a folder. Empty elsewhere."""
    p = Path(path).resolve()
    if ROOT not in p.parents:
        return {}
    bundle = ROOT / p.relative_to(ROOT).parts[0]
    manifest = json.loads((bundle / "MANIFEST.json").read_text())
    rel = p.relative_to(bundle).as_posix()
    if p.is_dir():
        return {k[len(rel) + 1 :]: v for k, v in manifest.items() if k.startswith(rel + "/")}
    return {p.name: manifest[rel]} if rel in manifest else {}
