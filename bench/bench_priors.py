"""Learned priors on the bundled CelebA z-points, next to the Gaussian baselines, in one run.

    .venv/bin/python bench/bench_priors.py [--only flow,diffusion,vae2] [--n 1000] [--out DIR]

Fits each generator on the 8,968 train z-points of ``celeba64`` with its default
hyper-parameters, then prints the fit time, the mean held-out log-likelihood per dimension on the
1,032 held-out z-points (nats; the diffusion model's is its ELBO and the two-stage VAE's an IWAE
estimate, both lower bounds), the time to draw ``--n`` samples and their mean per-component
standard deviation against the real points'. With ``--out`` it also writes one PNG per
generator: its first 64 samples, decoded.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from latentatlas.generators import make_generator

BASELINES = ("mvn", "gmm")
PRIORS = ("flow", "diffusion", "vae2")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(BASELINES + PRIORS))
    ap.add_argument("--n", type=int, default=1000, help="samples to draw and time")
    ap.add_argument("--out", type=Path, help="write decoded sample grids here")
    args = ap.parse_args()

    from latentatlas.core.imaging import save_png, square_grid
    from latentatlas.models.decode import decode
    from latentatlas.models.pretrained import celeba64

    model, store = celeba64()
    Z = np.asarray(store.subset("train"), dtype=np.float64)
    H = np.asarray(store.subset("heldout"), dtype=np.float64)
    N = Z.shape[1]
    print(f"train {Z.shape}, held-out {H.shape}; real per-component std {Z.std(0).mean():.3f}")
    print(
        f"{'generator':<10} {'fit s':>7} {'epochs':>7} {'held-out ll/dim':>16} "
        f"{'sample s':>9} {'sample std':>11}"
    )
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only.split(","):
        extra = {"progress": False} if name in PRIORS else {}
        gen = make_generator(name, **extra)
        t0 = time.perf_counter()
        gen.fit(Z)
        fit_s = time.perf_counter() - t0
        ll = gen.score_samples(H).mean() / N
        t0 = time.perf_counter()
        X = gen.sample(args.n, random_state=0)
        sample_s = time.perf_counter() - t0
        epochs = f"{gen.best_epoch_ + 1}/{gen.n_epochs_}" if name in PRIORS else "-"
        print(
            f"{name:<10} {fit_s:7.1f} {epochs:>7} {ll:16.3f} {sample_s:9.1f} "
            f"{X.std(0).mean():11.3f}",
            flush=True,
        )
        if args.out:
            save_png(square_grid(decode(model, X[:64])), args.out / f"{name}.png")


if __name__ == "__main__":
    main()
