"""Where the images are: the CelebA layout or any folder, with CelebA's partition/attributes or
a folder's class labels (subfolder names, the ImageFolder layout, or a ``labels.csv``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentatlas.core.errors import LatentAtlasError
from latentatlas.data.store import SPLIT_NAMES, TRAIN, VAL

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
CELEBA_IMAGES = "img_align_celeba"
CELEBA_PARTITION = "list_eval_partition.txt"
CELEBA_ATTRIBUTES = "list_attr_celeba.txt"
# A folder's class labels: "filename,label" rows (a header row is skipped), beside the images.
LABEL_FILE = "labels.csv"
# Class labels become one +1/-1 attribute per class, "label=<class>" (see data.conditions).
LABEL = "label"


@dataclass
class Source:
    """The image files of one source and what is known about them, in a stable order."""

    root: Path
    layout: str  # "celeba" or "folder"
    files: list[Path]
    ids: list[str]
    partition: dict[str, int] = field(default_factory=dict)
    attribute_names: list[str] = field(default_factory=list)
    attributes: dict[str, np.ndarray] = field(default_factory=dict)


def find_source(src: str | Path) -> Source:
    """Discover the images under ``src``: the CelebA layout if it holds ``img_align_celeba/``.

    Ids are paths relative to the image folder (``000001.jpg`` for CelebA), which is what CelebA's
    partition and attribute files use.
    """
    root = Path(src)
    if not root.exists():
        raise LatentAtlasError(f"{root}: no such directory")
    if not root.is_dir():
        raise LatentAtlasError(f"{root}: not a directory (give a folder of images)")
    if (root / CELEBA_IMAGES).is_dir():
        layout, image_dir = "celeba", root / CELEBA_IMAGES
    elif root.name == CELEBA_IMAGES:
        layout, image_dir, root = "celeba", root, root.parent
    else:
        layout, image_dir = "folder", root
    files = sorted(
        p for p in image_dir.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
    )
    if not files:
        raise LatentAtlasError(f"{image_dir}: no image files ({', '.join(IMAGE_EXTENSIONS)}) found")
    ids = [p.relative_to(image_dir).as_posix() for p in files]
    source = Source(root, layout, files, ids)
    if layout == "celeba":
        if (root / CELEBA_PARTITION).is_file():
            source.partition = read_partition(root / CELEBA_PARTITION)
        if (root / CELEBA_ATTRIBUTES).is_file():
            source.attribute_names, source.attributes = read_attributes(root / CELEBA_ATTRIBUTES)
    else:
        labels = folder_labels(ids, root / LABEL_FILE)
        if labels:
            source.attribute_names, source.attributes = class_attributes(labels)
    return source


def folder_labels(ids: list[str], label_file: Path) -> dict[str, str]:
    """Class labels of a folder's images, by id: from ``label_file`` when it exists (CSV rows
    ``filename,label``; the filename is the id, a path relative to the folder, or its base name
    when that is unique), else from the subfolder names when every image sits exactly one
    subfolder deep and there are at least two subfolders (the ImageFolder layout:
    ``root/cat/1.png``, ``root/dog/2.png``). Empty when neither applies."""
    if label_file.is_file():
        return read_label_file(label_file, ids)
    parts = [i.split("/") for i in ids]
    if all(len(p) == 2 for p in parts) and len({p[0] for p in parts}) >= 2:
        return {i: p[0] for i, p in zip(ids, parts, strict=True)}
    return {}


def read_label_file(path: Path, ids: list[str]) -> dict[str, str]:
    """``filename,label`` rows of a CSV file, matched to ``ids``. Rows that match no image (a
    header, a deleted file) are ignored; a base name shared by several images matches none."""
    import csv

    by_name: dict[str, list[str]] = {}
    for i in ids:
        by_name.setdefault(i.rsplit("/", 1)[-1], []).append(i)
    known = set(ids)
    out: dict[str, str] = {}
    with path.open(newline="", errors="replace") as f:
        for row in csv.reader(f):
            if len(row) < 2 or not row[1].strip():
                continue
            name, label = row[0].strip().replace("\\", "/"), row[1].strip()
            match = [name] if name in known else by_name.get(name, [])
            if len(match) == 1:
                out[match[0]] = label
    return out


def class_attributes(labels: dict[str, str]) -> tuple[list[str], dict[str, np.ndarray]]:
    """Class labels by id as a store keeps attributes: one +1/-1 column per class, named
    ``label=<class>``, classes in numeric order when all are integers, else sorted."""
    classes = sorted(set(labels.values()))
    if all(c.lstrip("-").isdigit() for c in classes):
        classes.sort(key=int)
    column = {c: j for j, c in enumerate(classes)}
    eye = np.where(np.eye(len(classes), dtype=bool), 1, -1).astype(np.int8)
    names = [f"{LABEL}={c}" for c in classes]
    return names, {i: eye[column[c]] for i, c in labels.items()}


def read_partition(path: Path) -> dict[str, int]:
    """CelebA's ``<name> <0|1|2>`` lines; malformed lines are ignored."""
    out: dict[str, int] = {}
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] in ("0", "1", "2"):
            out[parts[0]] = int(parts[1])
    return out


def read_attributes(path: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    """CelebA's attribute file: a count line (not trusted: copies are often truncated), the
    attribute names, then ``<name> v1 ... vA`` rows of +1/-1 separated by runs of spaces."""
    lines = path.read_text(errors="replace").splitlines()
    if len(lines) < 2:
        return [], {}
    names = lines[1].split()
    rows: dict[str, np.ndarray] = {}
    for line in lines[2:]:
        parts = line.split()
        if len(parts) != len(names) + 1:
            continue
        try:
            rows[parts[0]] = np.array([int(v) for v in parts[1:]], dtype=np.int8)
        except ValueError:
            continue
    return names, rows


def assign_split(
    ids: list[str], partition: dict[str, int], val_fraction: float
) -> tuple[np.ndarray, dict]:
    """Split codes for ``ids`` and a description of how they were chosen.

    The official partition is used only when it covers every image and holds more than one split
    for them (the 10k CelebA subset is all "train", so it would leave nothing held out). Otherwise
    a held-out share is chosen by hashing each id, so the split is the same on every machine and
    does not change when images are added or removed.
    """
    if not 0.0 < val_fraction < 1.0:
        raise LatentAtlasError(f"--val-fraction must be in (0, 1), got {val_fraction}")
    if partition and all(i in partition for i in ids):
        codes = np.array([partition[i] for i in ids], dtype=np.uint8)
        if len(np.unique(codes)) > 1:
            return codes, {"method": "official", **_counts(codes)}
    codes = np.array([VAL if _unit_hash(i) < val_fraction else TRAIN for i in ids], dtype=np.uint8)
    if len(ids) > 1 and len(np.unique(codes)) == 1:
        # Tiny sets can hash to one side only; keep at least one point on each side.
        codes[:] = TRAIN
        codes[int(np.argmin([_unit_hash(i) for i in ids]))] = VAL
    return codes, {"method": "hash", "val_fraction": val_fraction, **_counts(codes)}


def _unit_hash(image_id: str) -> float:
    digest = hashlib.sha1(image_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _counts(codes: np.ndarray) -> dict:
    return {"counts": {name: int((codes == c).sum()) for c, name in enumerate(SPLIT_NAMES)}}
