"""Copy the README's pictures out of a `latentatlas demo` run into docs/images/.

    latentatlas demo --out latentatlas-demo && python tools/readme_images.py latentatlas-demo

Only decoded generator output and plots of z-points are copied, never the reconstructions grid
(decoded real z-points are near-copies of dataset images).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

GRIDS = ("cube", "normal", "percomponent", "mvn", "gmm")


def side_by_side(demo: Path, out: Path, cells: int = 4) -> None:
    """The top-left cells x cells decoded samples of each generator, labelled, in one row."""
    tiles = []
    for name in GRIDS:
        grid = np.asarray(Image.open(demo / "compare" / f"grid_{name}.png").convert("RGB"))
        cell = (grid.shape[1] - 2) // 8  # image_grid: 8 columns, 2 px padding
        crop = grid[: cell * cells + 2, : cell * cells + 2]
        label = np.full((18, crop.shape[1], 3), 255, np.uint8)
        tile = Image.fromarray(np.vstack([label, crop]))
        ImageDraw.Draw(tile).text((4, 3), name, fill=(0, 0, 0))
        tiles.append(np.asarray(tile))
    gap = np.full((tiles[0].shape[0], 8, 3), 255, np.uint8)
    row = np.hstack([x for t in tiles for x in (t, gap)][:-1])
    Image.fromarray(row).save(out / "generators.png")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("demo", type=Path)
    ap.add_argument("--out", type=Path, default=Path("docs/images"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    side_by_side(args.demo, args.out)
    atlas = args.demo / "atlas"
    shutil.copy(sorted(atlas.glob("projection_*.png"))[0], args.out / "projection.png")
    for name in ("radii", "theory_shells", "union"):
        shutil.copy(atlas / f"{name}.png", args.out / f"{name}.png")
    shutil.copy(args.demo / "compare" / "verdict_chart.png", args.out / "verdict_chart.png")
    # Decoded synthetic z-points along a path (no real image is reconstructed).
    shutil.copy(
        args.demo / "paths" / "segment_pc1_pc2" / "labelled.png", args.out / "path_segment.png"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
