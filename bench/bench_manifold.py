"""Benchmark: blocked, exact `latentatlas.metrics.prdc` vs full distance matrices.

The reference computation is the `prdc` package's (clovaai/generative-evaluation-prdc):
``sklearn.metrics.pairwise_distances(..., n_jobs=8)`` on the full real-real, fake-fake and
real-fake matrices, k-th values by ``np.argpartition``. Both run once on the same data in this
process; the script prints both times, the speed ratio and the largest absolute difference of the
four metrics.

    .venv/bin/python bench/bench_manifold.py [--n 10000] [--m 10000] [--dim 256] [--k 5]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import sklearn.metrics

from latentatlas.metrics import prdc

METRICS = ("precision", "recall", "density", "coverage")


def _pairwise(x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    return sklearn.metrics.pairwise_distances(
        x, x if y is None else y, metric="euclidean", n_jobs=8
    )


def _kth(d: np.ndarray, k: int) -> np.ndarray:
    idx = np.argpartition(d, k, axis=-1)[..., :k]
    return np.take_along_axis(d, idx, axis=-1).max(axis=-1)


def prdc_full(real: np.ndarray, fake: np.ndarray, k: int) -> dict:
    """The `prdc` package's computation (full n x n, m x m and n x m distance matrices)."""
    r_real = _kth(_pairwise(real), k + 1)
    r_fake = _kth(_pairwise(fake), k + 1)
    d = _pairwise(real, fake)
    inside_real = d < r_real[:, None]
    return {
        "precision": float(inside_real.any(axis=0).mean()),
        "recall": float((d < r_fake[None, :]).any(axis=1).mean()),
        "density": float((1.0 / k) * inside_real.sum(axis=0).mean()),
        "coverage": float((d.min(axis=1) < r_real).mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="real points")
    ap.add_argument("--m", type=int, default=10_000, help="fake points")
    ap.add_argument("--dim", type=int, default=256, help="N, the latent dimension")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    # Real: a correlated, shifted Gaussian; fake: a wider, partly overlapping one, so all four
    # metrics are strictly between 0 and 1 and many comparisons are close calls.
    scales = np.linspace(0.5, 1.5, args.dim)
    real = rng.standard_normal((args.n, args.dim)) * scales + 0.3
    fake = rng.standard_normal((args.m, args.dim)) * scales * 1.05 + 0.32

    print(f"prdc, n_real={args.n}, n_fake={args.m}, N={args.dim}, k={args.k}")
    t0 = time.perf_counter()
    blocked = prdc(real, fake, k=args.k)
    t_blocked = time.perf_counter() - t0
    rss_blocked = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    full = prdc_full(real, fake, args.k)
    t_full = time.perf_counter() - t0
    rss_full = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    width = max(len(m) for m in METRICS)
    for name in METRICS:
        print(f"  {name:<{width}}  blocked {blocked[name]:.6f}   full {full[name]:.6f}")
    diff = max(abs(blocked[name] - full[name]) for name in METRICS)
    print(f"blocked (latentatlas): {t_blocked:7.2f} s   (peak RSS so far {rss_blocked:,.0f} MB)")
    print(f"full matrices (prdc):  {t_full:7.2f} s   (peak RSS so far {rss_full:,.0f} MB)")
    print(f"speed-up: {t_full / t_blocked:.1f}x   max |difference| of the four metrics: {diff:.3g}")


if __name__ == "__main__":
    main()
