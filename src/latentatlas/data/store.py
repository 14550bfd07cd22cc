"""Z-point stores: the latent vectors of a set of images, as plain arrays (no torch here).

A store is a directory::

    z.npy           float32 (n, N), memory-mappable
    ids.npy         str (n,)       image ids, as in the image cache
    split.npy       uint8 (n,)     0 = train, 1 = val, 2 = test (CelebA's partition codes)
    attributes.npy  int8 (n, A)    +1 / -1, 0 = unknown (only when the images had attributes)
    store.json      sidecar: latent_dim, n, attribute names, model checksum, image size, and
                    the sha256 of every file above (checked on load unless ``verify=False``)

``load_store`` also accepts a bare ``.npy`` file of shape (n, N), so latents from any model work;
its points are all treated as train points.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latentatlas.core import atomic, files
from latentatlas.core.bundled import bundled_checksums, resolve
from latentatlas.core.errors import LatentAtlasError

SPLIT_NAMES = ("train", "val", "test")
TRAIN, VAL, TEST = range(3)
FORMAT = "latentatlas-store/1"
PAYLOAD = ("z.npy", "ids.npy", "split.npy", "attributes.npy")
NO_VERIFY_HINT = " (pass --no-verify to load it anyway)"


@dataclass
class ZStore:
    """z-points with their image ids, split and (optionally) attributes."""

    z: np.ndarray
    ids: np.ndarray
    split: np.ndarray
    attributes: np.ndarray | None = None
    attribute_names: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.z.shape[0])

    @property
    def latent_dim(self) -> int:
        return int(self.z.shape[1])

    def subset(self, split: str | int) -> np.ndarray:
        """z-points of one split: ``"train"``, ``"val"``, ``"test"`` or ``"heldout"`` (val+test)."""
        if split == "heldout":
            return np.asarray(self.z[self.split != TRAIN])
        code = SPLIT_NAMES.index(split) if isinstance(split, str) else int(split)
        return np.asarray(self.z[self.split == code])


def _check_z(z: np.ndarray, where: str, expected_dim: int | None) -> None:
    if z.ndim != 2:
        raise LatentAtlasError(f"{where}: z-points must be a 2-D (n, N) array, got shape {z.shape}")
    if not np.issubdtype(z.dtype, np.floating):
        raise LatentAtlasError(f"{where}: z-points must be floating point, got dtype {z.dtype}")
    if z.shape[0] == 0 or z.shape[1] == 0:
        raise LatentAtlasError(f"{where}: z-point array is empty (shape {z.shape})")
    if expected_dim is not None and z.shape[1] != expected_dim:
        raise LatentAtlasError(
            f"{where}: latent dimension is {z.shape[1]}, expected N = {expected_dim}"
        )
    # Chunked so a memory-mapped 200k x 256 store is checked without loading it twice.
    step = max(1, 2**22 // z.shape[1])
    first, identical = np.asarray(z[0]), z.shape[0] > 1
    for start in range(0, z.shape[0], step):
        block = np.asarray(z[start : start + step])
        if not np.isfinite(block).all():
            row = start + int(np.flatnonzero(~np.isfinite(block).all(axis=1))[0])
            raise LatentAtlasError(f"{where}: z-point {row} contains NaN or inf")
        identical = identical and bool((block == first).all())
    if identical:
        # Every analysis divides by a spread: say so now, not as a numerical error later.
        raise LatentAtlasError(f"{where}: all z-points are identical (nothing to analyse)")


def _load_npy(path: Path, mmap: bool) -> np.ndarray:
    return files.load_npy(path, mmap)


def load_store(
    path: str | os.PathLike,
    *,
    mmap: bool = True,
    expected_dim: int | None = None,
    verify: bool = True,
) -> ZStore:
    """Load and validate a store directory or a bare ``(n, N)`` ``.npy`` file.

    Raises :class:`LatentAtlasError` with a one-line message for anything unusable: missing files,
    wrong shape or dtype, NaN/inf, lengths that disagree, or a latent dimension other than
    ``expected_dim``. A bundled store's name (``celeba64``) loads the bundled z-points. With
    ``verify`` the files are checked against the sha256s recorded in ``store.json`` (stores
    written before checksums were recorded load unverified).
    """
    path = resolve(path, "store")
    if not path.exists():
        atomic.recover(path)  # a replacement killed half-way: put the previous store back
    if not path.exists():
        raise LatentAtlasError(f"{path}: no such store (a store directory or an .npy file)")
    if path.is_file():
        z = _load_npy(path, mmap)
        _check_z(z, str(path), expected_dim)
        n = z.shape[0]
        ids = np.array([str(i) for i in range(n)])
        return ZStore(z, ids, np.zeros(n, np.uint8), meta={"source": str(path)})

    sidecar = path / "store.json"
    if not (path / "z.npy").is_file() or not sidecar.is_file():
        raise LatentAtlasError(f"{path}: not a z-point store (needs z.npy and store.json)")
    meta = _read_json(sidecar)
    if not isinstance(meta, dict):
        raise LatentAtlasError(f"{sidecar}: not a store sidecar (a JSON object is expected)")
    if verify:
        recorded = meta.get("sha256") or bundled_checksums(path)
        files.verify(path, recorded, str(sidecar), NO_VERIFY_HINT)
    z = _load_npy(path / "z.npy", mmap)
    if z.ndim == 2:
        for key, label, actual in (("n", "n", z.shape[0]), ("latent_dim", "N", z.shape[1])):
            if meta.get(key) not in (None, actual):
                raise LatentAtlasError(
                    f"{path}: store.json says {label} = {meta[key]!r} but z.npy has shape {z.shape}"
                )
    _check_z(z, str(path), expected_dim)
    n = z.shape[0]
    ids = _load_npy(path / "ids.npy", False) if (path / "ids.npy").is_file() else None
    split = _load_npy(path / "split.npy", False) if (path / "split.npy").is_file() else None
    ids = np.array([str(i) for i in range(n)]) if ids is None else ids
    split = np.zeros(n, np.uint8) if split is None else split.astype(np.uint8)
    attrs = None
    if (path / "attributes.npy").is_file():
        attrs = _load_npy(path / "attributes.npy", False)
    for name, arr in (("ids", ids), ("split", split), ("attributes", attrs)):
        if arr is not None and len(arr) != n:
            raise LatentAtlasError(f"{path}: {name} has {len(arr)} rows but z.npy has {n}")
    if split.size and split.max() >= len(SPLIT_NAMES):
        raise LatentAtlasError(f"{path}: split codes must be 0 (train), 1 (val) or 2 (test)")
    return ZStore(z, ids, split, attrs, list(meta.get("attribute_names", [])), meta)


def save_store(
    path: str | os.PathLike,
    z: np.ndarray,
    ids: np.ndarray,
    split: np.ndarray,
    attributes: np.ndarray | None = None,
    attribute_names: list[str] | None = None,
    meta: dict[str, Any] | None = None,
    overwrite: bool = False,
    dtype: type = np.float32,
) -> Path:
    """Write a store directory atomically (it appears complete or not at all).

    ``dtype=np.float16`` halves the size (the bundled store uses it); analyses work in float64.
    """
    z = np.asarray(z, dtype=dtype)
    _check_z(z, "z", None)
    with atomic.atomic_dir(path, overwrite=overwrite) as tmp:
        np.save(tmp / "z.npy", z)
        write_store_extras(tmp, z.shape, ids, split, attributes, attribute_names, meta)
    return Path(path)


def write_store_extras(
    directory: Path,
    shape: tuple[int, int],
    ids: np.ndarray,
    split: np.ndarray,
    attributes: np.ndarray | None = None,
    attribute_names: list[str] | None = None,
    meta: dict[str, Any] | None = None,
) -> None:
    """Everything of a store but ``z.npy``: for writers that fill z.npy in place (encode)."""
    n, dim = shape
    np.save(directory / "ids.npy", np.asarray(ids).astype(str))
    np.save(directory / "split.npy", np.asarray(split, dtype=np.uint8))
    if attributes is not None:
        np.save(directory / "attributes.npy", np.asarray(attributes, dtype=np.int8))
    sidecar = {
        "format": FORMAT,
        "n": int(n),
        "latent_dim": int(dim),
        "split_names": list(SPLIT_NAMES),
        "attribute_names": list(attribute_names or []),
        **(meta or {}),
        "sha256": files.checksums(directory, PAYLOAD),
    }
    atomic.write_json(directory / "store.json", sidecar)


def image_size(path: str | os.PathLike) -> int | None:
    """The image side a store's ``store.json`` records (None when it records none or cannot be
    read: :func:`load_store` reports what is wrong with a store)."""
    try:
        meta = _read_json(resolve(path, "store") / "store.json")
    except (LatentAtlasError, OSError):
        return None
    size = meta.get("image_size") if isinstance(meta, dict) else None
    return size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else None


def _read_json(path: Path) -> dict[str, Any]:
    import json

    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise LatentAtlasError(f"{path}: unreadable JSON ({e})") from None
