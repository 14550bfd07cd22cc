"""``latentatlas compare`` on a 4,096-dimensional store (issue 18): every default generator fitted,
sampled, decoded and judged in z, with a tiny linear decoder of N = 4,096 (16 x 16 images) so the
time is the generators' and the z metrics', not a real decoder's.

Target: ``--n 500`` within 5 minutes on 2 cores. The store is a rank-64 signal plus isotropic
noise (a low-rank-plus-diagonal covariance, like a VAE's latents), float32, 10 % held out; it is
made before the clock starts. No image judges (``judges=()``): they see decoded images, whose
cost does not depend on N.

    .venv/bin/python bench/bench_compare_high_n.py [--n-store 5000] [--dim 4096] [--n 500]
        [--generators mvn,pca,...]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from latentatlas.data.store import save_store
from latentatlas.models import TorchLatentModel
from latentatlas.verdict.compare import run_compare

WALL_TARGET_S = 300.0
SIDE = 16


def make_store(path: Path, n: int, dim: int, rank: int = 64, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    W = (rng.standard_normal((dim, rank)) * np.geomspace(3.0, 0.5, rank)).astype(np.float32)
    z = rng.standard_normal((n, rank), dtype=np.float32) @ W.T
    z += 0.3 * rng.standard_normal((n, dim), dtype=np.float32)
    split = (np.arange(n) % 10 == 0).astype(np.uint8)
    save_store(path, z, np.array([f"z{i}" for i in range(n)]), split)


def tiny_model(dim: int) -> TorchLatentModel:
    torch.manual_seed(0)
    pixels = 3 * SIDE * SIDE
    dec = torch.nn.Linear(dim, pixels)
    enc = torch.nn.Linear(pixels, dim)

    def decode(z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(dec(z / 8.0)).reshape(-1, 3, SIDE, SIDE)

    def encode(x: torch.Tensor) -> torch.Tensor:
        return enc(x.reshape(len(x), -1))

    return TorchLatentModel(
        encode, decode, image_size=SIDE, channels=3, name="linear-4096", latent_shape=(dim,)
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-store", type=int, default=5000)
    p.add_argument("--dim", type=int, default=4096)
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--generators", default=None, help="comma-separated (default: compare's)")
    args = p.parse_args(argv)
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        make_store(store, args.n_store, args.dim)
        names = args.generators.split(",") if args.generators else None
        t0 = time.perf_counter()
        verdict = run_compare(
            tiny_model(args.dim),
            store,
            Path(tmp) / "verdict",
            generators=names,
            n=args.n,
            judges=(),
            progress=False,
            allow_mismatch=True,
        )
        wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    rows = {r["generator"]: r["seconds"] for r in verdict["rows"]}
    forms = {
        r["generator"]: r["fitted"].get("covariance_form") or r["fitted"].get("subspace")
        for r in verdict["rows"]
    }
    print(f"compare --n {args.n} on {args.n_store} x {args.dim}: {wall:.1f} s, peak {peak:.2f} GB")
    print("per generator (s):", json.dumps(rows))
    print("high-N forms:", json.dumps(forms))
    ok = wall <= WALL_TARGET_S
    print(f"target <= {WALL_TARGET_S:.0f} s: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
