"""Throughput of prepare / train / encode against the bare work each one wraps, in one run.

    python bench/bench_foundation.py [--src ../shared/data/celeba] [--n 3000]

Prints img/s for each pipeline stage and for its baseline, and the ratio (goals: prepare >= 1.5x
a plain single-process Pillow loop; train >= 0.9x the same model stepping on in-memory random
tensors; encode >= 0.9x pure encoder compute). Without --src it generates CelebA-shaped cartoon
faces at 178x218, so it runs anywhere.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from latentatlas.data.prepare import crop_box, prepare
from latentatlas.data.sources import find_source
from latentatlas.data.synthetic import make_celeba_layout
from latentatlas.models.autoencoder import AEConfig, ConvAutoencoder
from latentatlas.models.encode import encode
from latentatlas.models.train import TrainConfig, train

SIZE, BATCH = 64, 64


def plain_pillow_loop(files: list[Path]) -> np.ndarray:
    out = np.empty((len(files), SIZE, SIZE, 3), np.uint8)
    for i, f in enumerate(files):
        im = Image.open(f).convert("RGB")
        im = im.crop(tuple(round(v) for v in crop_box(*im.size, "celeba")))
        out[i] = np.asarray(im.resize((SIZE, SIZE), Image.Resampling.LANCZOS))
    return out


def random_tensor_steps(n_images: int) -> float:
    torch.manual_seed(0)
    model = ConvAutoencoder(AEConfig()).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), 2e-3)
    x = torch.rand(BATCH, 3, SIZE, SIZE).contiguous(memory_format=torch.channels_last)
    steps = n_images // BATCH
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = torch.nn.functional.mse_loss(model(x), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return steps * BATCH / (time.perf_counter() - t0)


def encoder_compute(n_images: int, batch: int = 256) -> float:
    model = ConvAutoencoder(AEConfig()).eval()
    x = torch.rand(batch, 3, SIZE, SIZE).contiguous(memory_format=torch.channels_last)
    t0 = time.perf_counter()
    with torch.inference_mode():
        for _ in range(0, n_images, batch):
            model.encode(x)
    return (n_images // batch * batch + (n_images % batch and batch)) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=None, help="CelebA root (default: generated)")
    ap.add_argument("--n", type=int, default=3000, help="images to use")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = args.src or make_celeba_layout(tmp / "celeba", args.n, size=(178, 218))
        files = find_source(src).files[: args.n]
        n = len(files)

        t0 = time.perf_counter()
        plain_pillow_loop(files)
        base = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        prepare(src, tmp / "cache", size=SIZE, limit=args.n, progress=False)
        ours = n / (time.perf_counter() - t0)
        print(
            f"prepare  {ours:8.0f} img/s  plain Pillow loop {base:8.0f} img/s  "
            f"ratio {ours / base:.2f}  (goal >= 1.5)"
        )

        result = train(
            tmp / "cache", tmp / "run", TrainConfig(epochs=1, batch_size=BATCH), progress=False
        )
        ours = result["history"][-1]["images_per_second"]
        base = random_tensor_steps(min(n, 1920))
        print(
            f"train    {ours:8.0f} img/s  random tensors    {base:8.0f} img/s  "
            f"ratio {ours / base:.2f}  (goal >= 0.9)"
        )

        t0 = time.perf_counter()
        encode(tmp / "run", tmp / "cache", tmp / "store", progress=False)
        ours = n / (time.perf_counter() - t0)
        base = encoder_compute(n)
        print(
            f"encode   {ours:8.0f} img/s  encoder compute   {base:8.0f} img/s  "
            f"ratio {ours / base:.2f}  (goal >= 0.9)"
        )


if __name__ == "__main__":
    main()
