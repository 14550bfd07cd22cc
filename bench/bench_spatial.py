"""The spatial-latents analysis and the spatial generator at a diffusion VAE's size.

Writes a synthetic store of spatial latents, (n, C*H*W) float32 memory-mapped, C-major: channel
c is mean[c] + std[c] x a separable AR(1) field with neighbour correlation rho (so the truth is
known), then times ``analysis.spatial.spatial_stats`` on the memmap and ``StationaryGaussian``'s
fit and sample, and prints what they recovered beside the truth. Defaults: SD3/FLUX's 16 x 64 x 64
(N = 65,536) at 512 px, 2,000 latents (a 0.5 GB file). Target: seconds to a minute on 2 cores,
memory bounded by the row blocks (NumPy's peak allocation is printed; the memmap's pages are
the page cache's).

    .venv/bin/python bench/bench_spatial.py [--n 2000] [--shape 16,64,64] [--rho 0.9]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np


def ar1_field(rng: np.random.Generator, n: int, shape: tuple[int, int, int], rho: float):
    """(n, C, H, W) unit-variance fields with correlation rho**(|dy| + |dx|)."""
    out = rng.standard_normal((n, *shape))
    for axis in (2, 3):
        f = np.moveaxis(out, axis, 0)
        for i in range(1, len(f)):
            f[i] = rho * f[i - 1] + np.sqrt(1 - rho**2) * f[i]
    return out


def make_store(path: Path, n: int, shape, rho: float, mean, std) -> None:
    rng = np.random.default_rng(0)
    z = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, int(np.prod(shape))))
    for start in range(0, n, 100):
        m = min(100, n - start)
        field = ar1_field(rng, m, shape, rho) * std[:, None, None] + mean[:, None, None]
        z[start : start + m] = field.reshape(m, -1)
    z.flush()
    del z


def timed(label: str, fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"{label:<44} {seconds:7.1f} s   peak NumPy allocation {peak:7.0f} MB")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--shape", default="16,64,64", help="C,H,W (default 16,64,64)")
    ap.add_argument("--rho", type=float, default=0.9, help="neighbour correlation (default 0.9)")
    ap.add_argument("--sample", type=int, default=500, help="latents the generator draws")
    args = ap.parse_args()
    shape = tuple(int(s) for s in args.shape.split(","))
    c = shape[0]
    mean, std = np.linspace(-0.5, 0.5, c), np.linspace(0.5, 1.5, c)

    import latentatlas.metrics  # noqa: F401  (imported before the clock starts)
    from latentatlas.analysis.spatial import spatial_stats
    from latentatlas.generators import StationaryGaussian

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "z.npy"
        make_store(path, args.n, shape, args.rho, mean, std)
        z = np.load(path, mmap_mode="r")
        print(
            f"{args.n:,} latents of {' x '.join(map(str, shape))} (N = {z.shape[1]:,}), "
            f"{path.stat().st_size / 2**30:.2f} GB float32, memory-mapped"
        )
        meta = {"scaling_factor": 0.3611, "shift_factor": 0.1159}
        st = timed("spatial_stats (whole section's numbers)", lambda: spatial_stats(z, shape, meta))
        gen = StationaryGaussian(latent_shape=list(shape))
        timed("StationaryGaussian.fit", lambda: gen.fit(z))
        x = timed(f"StationaryGaussian.sample({args.sample})", lambda: gen.sample(args.sample, 0))
        timed(f"StationaryGaussian.score_samples({args.sample})", lambda: gen.score_samples(x))
        back = spatial_stats(x, shape, two_sample_points=0)
    print(
        f"channel std, max relative error:   data {np.max(np.abs(st.channel_std / std - 1)):.3f}"
        f"   generated {np.max(np.abs(back.channel_std / std - 1)):.3f}"
    )
    print(
        f"lag-1 correlation (true {args.rho}):  data {st.lag1.min():.3f}-{st.lag1.max():.3f}"
        f"   generated {back.lag1.min():.3f}-{back.lag1.max():.3f}"
        f" (torus: (H-1)/H x rho = {args.rho * (shape[1] - 1) / shape[1]:.3f})"
    )
    true_len = -1 / np.log(args.rho)
    lengths = [v for v in st.corr_length_e if v is not None]
    print(
        f"1/e correlation length: {min(lengths):.2f}-{max(lengths):.2f} positions "
        f"(along an axis {true_len:.2f}, diagonally {true_len / np.sqrt(2):.2f})"
    )
    print(st.verdict)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
