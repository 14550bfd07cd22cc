"""The page helper: figures and ready-made PNGs are embedded, captioned and written alike."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from latentatlas.core.html import Page, figure_png


def _grid_png() -> bytes:
    """An image grid as Pillow makes it (2 x 2 tiles of 8 x 8 pixels)."""
    tiles = np.zeros((16, 16, 3), np.uint8)
    tiles[:8, :8] = (255, 0, 0)
    tiles[8:, 8:] = (0, 0, 255)
    buf = io.BytesIO()
    Image.fromarray(tiles).save(buf, format="PNG")
    return buf.getvalue()


def test_image_is_embedded_like_a_figure() -> None:
    png = figure_png(_line())
    a, b = Page("p"), Page("p")
    a.figure(a.section("s", "1. S"), "plot", _line(), "A line, for the test.", "Key 1.")
    b.image(b.section("s", "1. S"), "plot", png, "A line, for the test.", "Key 1.")
    # same bytes in, same page out: figure() is image() after rendering
    assert a.pngs["plot"] == b.pngs["plot"] == png
    assert a.render() == b.render()


def _line() -> Figure:
    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([0, 1], [1, 0])
    return fig


def test_image_written_and_checked(tmp_path: Path) -> None:
    png = _grid_png()
    page = Page("grids")
    sec = page.section("grids", "1. Grids")
    page.image(sec, "grid_cube", png, "Decoded samples of the cube, 8 x 8.", "Face rate 1%.")
    html = page.render()
    assert html.count('src="data:image/png;base64,') == 1
    assert "Decoded samples of the cube" in html and "[grid_cube.png]" in html
    page.write(tmp_path)
    assert (tmp_path / "grid_cube.png").read_bytes() == png
    with Image.open(tmp_path / "grid_cube.png") as im:
        assert im.size == (16, 16)
    with pytest.raises(ValueError, match="duplicate"):
        page.image(sec, "grid_cube", png, "Again.", "1")
    with pytest.raises(ValueError, match="not PNG"):
        page.image(sec, "jpeg", b"\xff\xd8\xff\xe0 not a png", "A JPEG.", "1")
    fig = Figure()
    with pytest.raises(ValueError, match="duplicate"):
        page.figure(sec, "grid_cube", fig, "Again.", "1")


def test_link_is_escaped() -> None:
    page = Page("p")
    page.link(page.section("s", "1. S"), "the verdict <page>", "../a b/index.html?x=1&y=2")
    html = page.render()
    assert '<a href="../a b/index.html?x=1&amp;y=2">the verdict &lt;page&gt;</a>' in html
