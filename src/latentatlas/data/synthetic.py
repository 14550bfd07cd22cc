"""Small generated image sets (cartoon faces) for tests, benchmarks and the offline demo.

Nothing here comes from a dataset: every pixel is drawn from a seeded random generator, so these
images may be committed, shipped and shown freely.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from latentatlas.data.sources import CELEBA_ATTRIBUTES, CELEBA_IMAGES, CELEBA_PARTITION

ATTRIBUTE_NAMES = ("Smiling", "Eyeglasses", "Dark_Background")


def cartoon_face(
    rng: np.random.Generator, width: int, height: int
) -> tuple[Image.Image, list[int]]:
    """One face-like RGB image and its +1/-1 attributes (smiling, glasses, dark background)."""
    dark = rng.random() < 0.5
    bg = tuple(int(v) for v in rng.integers(0, 90 if dark else 256, 3))
    im = Image.new("RGB", (width, height), bg)
    d = ImageDraw.Draw(im)
    cx, cy = width * rng.uniform(0.42, 0.58), height * rng.uniform(0.45, 0.55)
    rx, ry = width * rng.uniform(0.22, 0.32), height * rng.uniform(0.26, 0.36)
    skin = tuple(int(v) for v in rng.integers(120, 255, 3))
    d.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=skin)
    eye_y, eye_dx, r = cy - ry * 0.25, rx * 0.45, max(1.0, rx * 0.12)
    for sx in (-1, 1):
        d.ellipse(
            [cx + sx * eye_dx - r, eye_y - r, cx + sx * eye_dx + r, eye_y + r], fill=(20,) * 3
        )
    glasses = rng.random() < 0.3
    if glasses:
        for sx in (-1, 1):
            d.ellipse(
                [cx + sx * eye_dx - 2 * r, eye_y - 2 * r, cx + sx * eye_dx + 2 * r, eye_y + 2 * r],
                outline=(0, 0, 0),
                width=max(1, int(r / 2)),
            )
    smiling = rng.random() < 0.5
    mouth = [cx - rx * 0.4, cy + ry * 0.25, cx + rx * 0.4, cy + ry * 0.6]
    d.arc(
        mouth,
        20 if smiling else 200,
        160 if smiling else 340,
        fill=(150, 30, 30),
        width=max(1, int(r)),
    )
    return im, [1 if smiling else -1, 1 if glasses else -1, 1 if dark else -1]


def make_image_folder(
    path: str | os.PathLike,
    n: int,
    size: tuple[int, int] = (40, 48),
    seed: int = 0,
    formats: tuple[str, ...] = ("png", "jpg"),
    subfolders: int = 1,
) -> list[Path]:
    """Write ``n`` cartoon faces of ``size`` (width, height) under ``path``, cycling formats."""
    rng = np.random.default_rng(seed)
    root = Path(path)
    files = []
    for i in range(n):
        folder = root / f"part{i % subfolders}" if subfolders > 1 else root
        folder.mkdir(parents=True, exist_ok=True)
        im, _ = cartoon_face(rng, *size)
        file = folder / f"face{i:05d}.{formats[i % len(formats)]}"
        im.save(file)
        files.append(file)
    return files


def make_celeba_layout(
    path: str | os.PathLike,
    n: int,
    size: tuple[int, int] = (89, 109),
    seed: int = 0,
    partition: str = "train",
    attribute_rows: int | None = None,
) -> Path:
    """A CelebA-shaped folder: ``img_align_celeba/000001.jpg...``, the partition file and an
    attribute file whose header count is wrong, as in truncated real copies.

    ``partition="train"`` puts every image in partition 0 (like the shared 10k subset);
    ``"official"`` spreads them over 0/1/2. ``attribute_rows`` keeps only the first rows.
    """
    rng = np.random.default_rng(seed)
    root = Path(path)
    images = root / CELEBA_IMAGES
    images.mkdir(parents=True, exist_ok=True)
    names, attrs = [], []
    for i in range(n):
        im, a = cartoon_face(rng, *size)
        name = f"{i + 1:06d}.jpg"
        im.save(images / name, quality=90)
        names.append(name)
        attrs.append(a)
    codes = [0] * n if partition == "train" else [(0, 0, 0, 1, 2)[i % 5] for i in range(n)]
    lines = [f"{name} {c}" for name, c in zip(names, codes, strict=True)]
    (root / CELEBA_PARTITION).write_text("\n".join(lines))
    rows = names[: attribute_rows if attribute_rows is not None else n]
    text = ["202599", " ".join(ATTRIBUTE_NAMES)]
    text += [
        f"{name}  " + "  ".join(f"{v:2d}" for v in a) for name, a in zip(rows, attrs, strict=False)
    ]
    (root / CELEBA_ATTRIBUTES).write_text("\n".join(text) + "\n")
    return root
