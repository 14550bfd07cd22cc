"""Image grids as PNG files (numpy + Pillow only)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

from latentatlas import atomic


def image_grid(rows: list[np.ndarray], pad: int = 2, fill: int = 255) -> Image.Image:
    """Tile rows of uint8 (k, H, W, 3) images into one picture, ``pad`` pixels apart."""
    if not rows:
        raise ValueError("image_grid needs at least one row")
    h, w = rows[0].shape[1:3]
    cols = max(len(r) for r in rows)
    canvas = np.full((len(rows) * (h + pad) + pad, cols * (w + pad) + pad, 3), fill, dtype=np.uint8)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            y, x = pad + i * (h + pad), pad + j * (w + pad)
            canvas[y : y + h, x : x + w] = img
    return Image.fromarray(canvas)


def square_grid(images: np.ndarray, side: int = 8) -> Image.Image:
    """The first ``side * side`` uint8 (n, H, W, 3) images, ``side`` per row."""
    images = images[: side * side]
    return image_grid([images[i : i + side] for i in range(0, len(images), side)])


def save_png(image: Image.Image, path: str | os.PathLike) -> Path:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return atomic.write_bytes(path, buf.getvalue())
