"""Z-point stores: the latent vectors of a set of images, as plain arrays (no torch here).

A store is a directory::

    z.npy           float32 (n, N), memory-mappable; or, in a chunked store, chunk files
    z/00000.npy …   float32 (rows, N) each, in row order (``store.json["chunks"]`` lists their
                    names, rows and sha256), so that workers on other machines read them apart
    ids.npy         str (n,)       image ids, as in the image cache
    split.npy       uint8 (n,)     0 = train, 1 = val, 2 = test (CelebA's partition codes)
    attributes.npy  int8 (n, A)    +1 / -1, 0 = unknown (only when the images had attributes)
    store.json      sidecar: latent_dim, n, attribute names, model checksum, image size, and
                    the sha256 of every file above (checked on load unless ``verify=False``)

An encoded store's sidecar also records the model's ``latent_shape``: ``[N]`` for a flat latent,
``[C, H, W]`` for a spatial one (a diffusion VAE's), whose z rows are then flattened C-major,
``z[c*H*W + h*W + w]`` (numpy's ``reshape(n, C, H, W)``); a diffusers VAE's store adds its
``scaling_factor`` and ``shift_factor`` (z = (mean - shift_factor) x scaling_factor, the shift
null when the model has none).

``load_store`` also accepts a bare ``.npy`` file of shape (n, N), so latents from any model work;
its points are all treated as train points. z is memory-mapped: a chunked store's z is a
:class:`~latentatlas.data.rows.ChunkedZ` (one lazily concatenated array of the chunks' memory
maps), and :meth:`ZStore.blocks` walks either layout in bounded memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latentatlas.core import atomic, files
from latentatlas.core.bundled import bundled_checksums, resolve
from latentatlas.core.errors import LatentAtlasError
from latentatlas.data.rows import ChunkedZ, ZWriter, chunk_plan, iter_blocks

SPLIT_NAMES = ("train", "val", "test")
TRAIN, VAL, TEST = range(3)
FORMAT = "latentatlas-store/1"
PAYLOAD = ("z.npy", "ids.npy", "split.npy", "attributes.npy")
NO_VERIFY_HINT = " (pass --no-verify to load it anyway)"


@dataclass
class ZStore:
    """z-points with their image ids, split and (optionally) attributes."""

    z: np.ndarray | ChunkedZ
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

    def subset(self, split: str | int) -> np.ndarray | ChunkedZ:
        """z-points of one split: ``"train"``, ``"val"``, ``"test"`` or ``"heldout"`` (val+test).

        A split holding every point is the store's z itself (a memory map stays one, not copied);
        a split that is one run of rows is a view of it; any other split is a copy.
        """
        if split == "heldout":
            mask = self.split != TRAIN
        else:
            code = SPLIT_NAMES.index(split) if isinstance(split, str) else int(split)
            mask = self.split == code
        rows = np.flatnonzero(mask)
        if len(rows) == self.n:
            return self.z
        if len(rows) and rows[-1] - rows[0] + 1 == len(rows) and isinstance(self.z, np.ndarray):
            return self.z[rows[0] : rows[-1] + 1]
        return np.asarray(self.z[rows])

    def blocks(self, rows: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, z rows) in order, about ``rows`` rows (32 MiB) at a time: one pass over
        z in bounded memory, read with file reads so that its pages do not stay resident."""
        return iter_blocks(self.z, rows)


def _check_z(z: np.ndarray | ChunkedZ, where: str, expected_dim: int | None) -> None:
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
    # Block by block with file reads: a memory-mapped store is checked without growing the
    # process by its size.
    first, identical = np.asarray(z[0]), z.shape[0] > 1
    for start, block in iter_blocks(z):
        if not np.isfinite(block).all():
            row = start + int(np.flatnonzero(~np.isfinite(block).all(axis=1))[0])
            raise LatentAtlasError(f"{where}: z-point {row} contains NaN or inf")
        identical = identical and bool((block == first).all())
    if identical:
        # Every analysis divides by a spread: say so now, not as a numerical error later.
        raise LatentAtlasError(f"{where}: all z-points are identical (nothing to analyse)")


def _load_npy(path: Path, mmap: bool) -> np.ndarray:
    return files.load_npy(path, mmap)


def verify_checksums(path: Path, meta: dict[str, Any], where: str) -> None:
    """Check every payload file of the store ``path`` against the sha256s its sidecar
    ``meta`` records (each file is read in blocks, never whole): the ``sha256`` mapping and, in
    a chunked store, each chunk's own, which every chunk must record. Missing or partial
    checksums are refused (``files.verify_required``); the bundled store's are in its bundle's
    MANIFEST.json."""
    recorded = meta.get("sha256") or bundled_checksums(path)
    files.verify_required(path, recorded, PAYLOAD, where, NO_VERIFY_HINT)
    chunks = _chunk_records(path, meta)
    for c in chunks:
        if not isinstance(c.get("sha256"), str):
            raise LatentAtlasError(f"{where} records no sha256 of {c['file']}{NO_VERIFY_HINT}")
    files.verify(path, {c["file"]: c["sha256"] for c in chunks}, where, NO_VERIFY_HINT)


def _chunk_records(path: Path, meta: dict[str, Any]) -> list[dict[str, Any]]:
    chunks = meta.get("chunks", [])
    ok = isinstance(chunks, list) and all(
        isinstance(c, dict)
        and isinstance(c.get("file"), str)
        and not Path(c["file"]).is_absolute()
        and ".." not in Path(c["file"]).parts
        and isinstance(c.get("rows"), int)
        for c in chunks
    )
    if not ok or ("chunks" in meta and not chunks):
        raise LatentAtlasError(
            f"{path / 'store.json'}: its chunks must be a list of {{file, rows, sha256}} records "
            "of files inside the store"
        )
    return chunks


def _load_chunks(path: Path, meta: dict[str, Any], mmap: bool) -> np.ndarray | ChunkedZ:
    """The z of a chunked store: its chunks' memory maps as one array (one chunk: its map)."""
    records = _chunk_records(path, meta)
    arrays = []
    for c in records:
        z = _load_npy(path / c["file"], mmap)
        if z.ndim != 2 or len(z) != c["rows"]:
            raise LatentAtlasError(
                f"{path / c['file']}: shape {z.shape}, but store.json says {c['rows']} rows"
            )
        if arrays and (z.shape[1] != arrays[0].shape[1] or z.dtype != arrays[0].dtype):
            raise LatentAtlasError(
                f"{path / c['file']}: {z.shape[1]} columns of {z.dtype}, but the first chunk has "
                f"{arrays[0].shape[1]} of {arrays[0].dtype}"
            )
        arrays.append(z)
    if len(arrays) == 1:
        return arrays[0]
    if not mmap:
        return np.concatenate(arrays)
    return ChunkedZ(arrays, [path / c["file"] for c in records], [c.get("sha256") for c in records])


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
        ids = np.arange(n).astype(str)
        return ZStore(z, ids, np.zeros(n, np.uint8), meta={"source": str(path)})

    sidecar = path / "store.json"
    chunked = sidecar.is_file() and not (path / "z.npy").is_file()
    if not sidecar.is_file() or not (chunked or (path / "z.npy").is_file()):
        raise LatentAtlasError(f"{path}: not a z-point store (needs z.npy and store.json)")
    meta = _read_json(sidecar)
    if not isinstance(meta, dict):
        raise LatentAtlasError(f"{sidecar}: not a store sidecar (a JSON object is expected)")
    if chunked and "chunks" not in meta:
        raise LatentAtlasError(f"{path}: not a z-point store (needs z.npy and store.json)")
    if verify:
        verify_checksums(path, meta, str(sidecar))
    z = _load_chunks(path, meta, mmap) if chunked else _load_npy(path / "z.npy", mmap)
    if z.ndim == 2:
        what = "its chunks hold" if chunked else "z.npy has"
        for key, label, actual in (("n", "n", z.shape[0]), ("latent_dim", "N", z.shape[1])):
            if meta.get(key) not in (None, actual):
                raise LatentAtlasError(
                    f"{path}: store.json says {label} = {meta[key]!r} but {what} shape {z.shape}"
                )
    _check_z(z, str(path), expected_dim)
    n = z.shape[0]
    ids = _load_npy(path / "ids.npy", False) if (path / "ids.npy").is_file() else None
    split = _load_npy(path / "split.npy", False) if (path / "split.npy").is_file() else None
    ids = np.arange(n).astype(str) if ids is None else ids
    split = np.zeros(n, np.uint8) if split is None else split.astype(np.uint8)
    attrs = None
    if (path / "attributes.npy").is_file():
        attrs = _load_npy(path / "attributes.npy", False)
    for name, arr in (("ids", ids), ("split", split), ("attributes", attrs)):
        if arr is not None and len(arr) != n:
            raise LatentAtlasError(f"{path}: {name} has {len(arr)} rows but z.npy has {n}")
    if split.size and split.max() >= len(SPLIT_NAMES):
        raise LatentAtlasError(f"{path}: split codes must be 0 (train), 1 (val) or 2 (test)")
    return ZStore(z, ids, split, attrs, attribute_names(meta, sidecar), meta)


def attribute_names(meta: dict[str, Any], where: str | os.PathLike) -> list[str]:
    """A sidecar's ``"attribute_names"``: a list of strings (absent: none), else a one-line
    error naming the field."""
    names = meta.get("attribute_names", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise LatentAtlasError(
            f'{where}: "attribute_names" must be a list of names, got {names!r:.40}'
        )
    return names


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
    chunk_rows: int | None = None,
) -> Path:
    """Write a store directory atomically (it appears complete or not at all).

    ``dtype=np.float16`` halves the size (the bundled store uses it); analyses work in float64.
    ``chunk_rows`` writes z as chunk files of that many rows (the chunked layout) instead of
    one ``z.npy``.
    """
    z = np.asarray(z, dtype=dtype)
    _check_z(z, "z", None)
    if chunk_rows is not None and chunk_rows < 1:
        raise LatentAtlasError(f"chunk rows must be positive, got {chunk_rows}")
    with atomic.atomic_dir(path, overwrite=overwrite) as tmp:
        chunks = None
        if chunk_rows is None:
            np.save(tmp / "z.npy", z)
        else:
            plan = chunk_plan([(0, len(z))], chunk_rows)
            with ZWriter(tmp, plan, z.shape[1], dtype=dtype) as w:
                w.write(0, z)
            chunks = w.entries()
        write_store_extras(tmp, z.shape, ids, split, attributes, attribute_names, meta, chunks)
    return Path(path)


def write_store_extras(
    directory: Path,
    shape: tuple[int, int],
    ids: np.ndarray,
    split: np.ndarray,
    attributes: np.ndarray | None = None,
    attribute_names: list[str] | None = None,
    meta: dict[str, Any] | None = None,
    chunks: list[dict[str, Any]] | None = None,
) -> None:
    """Everything of a store but its z files: for writers that fill them in place (encode).
    ``chunks``, the records of :meth:`~latentatlas.data.rows.ZWriter.entries`, makes it a
    chunked store."""
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
        **({"layout": "chunked", "chunks": chunks} if chunks else {}),
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
