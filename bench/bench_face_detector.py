"""Validate the face detector: its rate on real face crops (sharp / blurred) and on non-faces.

    .venv/bin/python bench/bench_face_detector.py [--celeba ../shared/data/celeba] [--n 500]
                                                  [--grid]

Real sets: ``n`` random CelebA images cropped and resized to 64x64 exactly as ``latentatlas
prepare`` does, sharp and Gaussian-blurred (PIL radius 1.5 and 2.5, standing in for blurry
autoencoder reconstructions). Non-face sets: uniform noise; smooth random blobs (Gaussian-filtered
noise, sigma 1/2/4/8 px in turn, stretched to 0..255); the mean face of 2,000 other crops plus
Gaussian noise (sigma 10/25/50/80 in turn). Prints the detection rate of each set and the time
per image, for the default ``FaceDetector()`` (and, with ``--grid``, a few alternatives).
Exits 0 with a note when the CelebA folder is absent. The images are only read, never copied.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CELEBA = ROOT / ".." / "shared" / "data" / "celeba"
SIZE = 64

GRID = [
    {},
    {"scale_factor": 1.1},
    {"min_neighbors": 5},
    {"min_size": 0.3},
    {"side": 96},
    {"equalize": True},
    {"cascade": "haarcascade_frontalface_alt2.xml"},
]


def blur(images: np.ndarray, radius: float) -> np.ndarray:
    from PIL import Image, ImageFilter

    return np.stack(
        [np.asarray(Image.fromarray(a).filter(ImageFilter.GaussianBlur(radius))) for a in images]
    )


def make_sets(celeba: Path, n: int, seed: int) -> dict[str, np.ndarray]:
    from scipy.ndimage import gaussian_filter

    from latentatlas.data.prepare import load_image

    files = sorted((celeba / "img_align_celeba").glob("*.jpg"))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(files))
    pick, others = order[:n], order[n : n + 2000]
    sharp = np.stack([load_image(files[i], SIZE, "celeba")[0] for i in pick])
    mean = np.mean([load_image(files[i], SIZE, "celeba")[0] for i in others], axis=0)
    blobs = []
    for k in range(n):
        s = (1, 2, 4, 8)[k % 4]
        x = gaussian_filter(rng.standard_normal((SIZE, SIZE, 3)), (s, s, 0))
        blobs.append(((x - x.min()) / (x.max() - x.min()) * 255).round().astype(np.uint8))
    sigmas = np.array([(10, 25, 50, 80)[k % 4] for k in range(n)], dtype=np.float64)
    noisy_mean = mean + rng.standard_normal((n, SIZE, SIZE, 3)) * sigmas[:, None, None, None]
    return {
        "celeba sharp": sharp,
        "celeba blur 1.5": blur(sharp, 1.5),
        "celeba blur 2.5": blur(sharp, 2.5),
        "uniform noise": rng.integers(0, 256, (n, SIZE, SIZE, 3), dtype=np.uint8),
        "smooth blobs": np.stack(blobs),
        "mean face + noise": np.clip(noisy_mean, 0, 255).round().astype(np.uint8),
        "mean face alone": np.clip(mean, 0, 255).round().astype(np.uint8)[None],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--celeba", type=Path, default=DEFAULT_CELEBA)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--grid", action="store_true", help="also try a few non-default settings")
    args = ap.parse_args()
    if not (args.celeba / "img_align_celeba").is_dir():
        print(f"skipped: no CelebA images under {args.celeba} (pass --celeba)")
        return 0

    from latentatlas.verdict.judges.haar import FaceDetector

    sets = make_sets(args.celeba, args.n, args.seed)
    for params in GRID if args.grid else GRID[:1]:
        det = FaceDetector(**params)
        print(f"\n{det!r}")
        t0, count = time.perf_counter(), 0
        for name, imgs in sets.items():
            hits = det.detect(imgs)
            count += len(imgs)
            line = f"  {name:<18} {hits.mean():6.3f}  (n={len(imgs)})"
            if name in ("smooth blobs", "mean face + noise"):
                parts = " ".join(f"{hits[j::4].mean():.3f}" for j in range(4))
                line += f"  by sigma: {parts}"
            print(line)
        print(f"  {(time.perf_counter() - t0) / count * 1e3:.1f} ms/image")
    return 0


if __name__ == "__main__":
    sys.exit(main())
