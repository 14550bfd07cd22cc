"""Image grids as PNG files (numpy + Pillow only)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

from latentatlas.core import atomic


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


def png_bytes(image: np.ndarray | Image.Image) -> bytes:
    """``image`` (a Pillow image, or a uint8 (H, W, 3) array) as the bytes of a PNG file."""
    buf = io.BytesIO()
    (image if isinstance(image, Image.Image) else Image.fromarray(image)).save(buf, format="PNG")
    return buf.getvalue()


def square_grid(images: np.ndarray, side: int = 8) -> Image.Image:
    """The first ``side * side`` uint8 (n, H, W, 3) images, ``side`` per row."""
    images = images[: side * side]
    return image_grid([images[i : i + side] for i in range(0, len(images), side)])


def save_png(image: Image.Image, path: str | os.PathLike) -> Path:
    return atomic.write_bytes(path, png_bytes(image))


def labelled_strip(
    images: np.ndarray, coords: np.ndarray, axes: list[str], scale: int = 2, unit: str = ""
) -> Image.Image:
    """A strip of decoded frames, ``scale`` times enlarged, with each frame's coordinates
    (one line per axis, e.g. ``pc1 = -85.3``, or ``pc1 = -3σ`` with ``unit="σ"``) printed
    under it."""
    from matplotlib import get_data_path
    from PIL import ImageDraw, ImageFont

    from latentatlas.core.numbers import fmt

    coords = np.asarray(coords, dtype=np.float64).reshape(len(images), -1)
    frames = np.repeat(np.repeat(images, scale, axis=1), scale, axis=2)
    strip = image_grid([frames], pad=4)
    # DejaVu Sans, shipped with matplotlib: Pillow's own default font has no Greek (σ).
    font = ImageFont.truetype(str(Path(get_data_path()) / "fonts/ttf/DejaVuSans.ttf"), 19)
    # Large enough to stay legible when a page scales the 12-frame strip to its width.
    band = 8 + 24 * len(axes)
    canvas = Image.new("RGB", (strip.width, strip.height + band), "white")
    canvas.paste(strip, (0, 0))
    draw = ImageDraw.Draw(canvas)
    w = frames.shape[2]
    for i, row in enumerate(coords):
        for k, (name, value) in enumerate(zip(axes, row, strict=True)):
            draw.text(
                (4 + i * (w + 4) + 2, strip.height + 3 + 24 * k),
                f"{name} = {fmt(float(value))}{unit}",
                fill=(0, 0, 0),
                font=font,
            )
    return canvas
