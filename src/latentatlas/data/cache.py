"""The image cache format written by ``latentatlas prepare`` and read by training and encoding.

A cache is a directory::

    images.npy      uint8 (n, size, size, 3), memory-mappable
    ids.npy         str (n,)
    split.npy       uint8 (n,)  0 = train, 1 = val, 2 = test
    attributes.npy  int8 (n, A) +1 / -1, 0 = unknown (only when the source had attributes)
    manifest.json   source, crop, size, counts, split method, skipped files with reasons, and
                    the sha256 of every file above (checked on load unless ``verify=False``)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latentatlas.core import atomic, files
from latentatlas.core.errors import LatentAtlasError
from latentatlas.data.store import attribute_names

FORMAT = "latentatlas-cache/1"
IMAGES, IDS, SPLIT, ATTRIBUTES, MANIFEST = (
    "images.npy",
    "ids.npy",
    "split.npy",
    "attributes.npy",
    "manifest.json",
)
PAYLOAD = (IMAGES, IDS, SPLIT, ATTRIBUTES)


@dataclass
class ImageCache:
    images: np.ndarray  # uint8 (n, size, size, 3), usually a read-only memmap
    ids: np.ndarray
    split: np.ndarray
    attributes: np.ndarray | None
    manifest: dict[str, Any]

    @property
    def n(self) -> int:
        return int(self.images.shape[0])

    @property
    def size(self) -> int:
        return int(self.images.shape[1])

    @property
    def attribute_names(self) -> list[str]:
        return list(self.manifest.get("attribute_names", []))


def load_cache(path: str | os.PathLike, verify: bool = True) -> ImageCache:
    """Open a cache (images memory-mapped) and check that its parts agree; with ``verify``
    also that its files match the sha256s recorded in the manifest (when it has them)."""
    path = Path(path)
    if not path.exists():
        atomic.recover(path)  # a replacement killed half-way: put the previous cache back
    if not (path / MANIFEST).is_file() or not (path / IMAGES).is_file():
        raise LatentAtlasError(f"{path}: not an image cache (run `latentatlas prepare` first)")
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as e:
        raise LatentAtlasError(f"{path}: damaged image cache ({e})") from None
    if not isinstance(manifest, dict):
        raise LatentAtlasError(f"{path / MANIFEST}: not a cache manifest (a JSON object)")
    attribute_names(manifest, path / MANIFEST)  # a usable list, or a line naming the field
    if verify:
        files.verify_required(
            path,
            manifest.get("sha256"),
            PAYLOAD,
            str(path / MANIFEST),
            " (pass --no-verify to use it anyway)",
        )
    images = files.load_npy(path / IMAGES, mmap=True)
    ids = files.load_npy(path / IDS)
    split = files.load_npy(path / SPLIT)
    attrs = files.load_npy(path / ATTRIBUTES) if (path / ATTRIBUTES).is_file() else None
    if images.ndim != 4 or images.shape[3] != 3 or images.shape[1] != images.shape[2]:
        raise LatentAtlasError(f"{path}: images.npy has shape {images.shape}, not (n, s, s, 3)")
    if images.dtype != np.uint8:
        raise LatentAtlasError(f"{path}: images.npy has dtype {images.dtype}, not uint8")
    for name, arr in (("ids", ids), ("split", split), ("attributes", attrs)):
        if arr is not None and len(arr) != len(images):
            raise LatentAtlasError(f"{path}: {name} has {len(arr)} rows, images has {len(images)}")
    return ImageCache(images, ids, split, attrs, manifest)


def truncate_npy(path: Path, n: int) -> None:
    """Shrink an .npy file in place to its first ``n`` rows.

    NumPy pads .npy headers so the first dimension can be rewritten in place (that is how arrays
    are appended to); this avoids copying gigabytes when a few files of a large source are skipped.
    """
    fmt = np.lib.format
    with open(path, "r+b") as f:
        version = fmt.read_magic(f)
        if version != (1, 0):
            raise RuntimeError(f"{path}: unexpected .npy version {version}")
        shape, fortran, dtype = fmt.read_array_header_1_0(f)
        data_start = f.tell()
        f.seek(0)
        fmt.write_array_header_1_0(
            f,
            {
                "descr": fmt.dtype_to_descr(dtype),
                "fortran_order": fortran,
                "shape": (n, *shape[1:]),
            },
        )
        if f.tell() != data_start:
            raise RuntimeError(f"{path}: .npy header changed length; cannot shrink in place")
        f.truncate(data_start + n * int(np.prod(shape[1:])) * dtype.itemsize)
