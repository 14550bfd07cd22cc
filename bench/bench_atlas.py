"""End-to-end ``latentatlas analyze`` of a synthetic 200,000 x 256 store with default settings.

Targets (issue 3): under 60 s wall time on 2 cores, peak memory under 4 GB. The store is a
correlated normal with an offset centroid, written as a bare float32 .npy in a temp dir (like a
real encode output); it is generated before the clock starts.

    .venv/bin/python bench/bench_atlas.py [--n 200000] [--dim 256] [--threads T] [--profile]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WALL_TARGET_S = 60.0
MEM_TARGET_GB = 4.0


def make_store(path: Path, n: int, dim: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    mix = (np.eye(dim) + 0.15 * rng.standard_normal((dim, dim))).astype(np.float32)
    offset = rng.normal(0.5, 1.0, dim).astype(np.float32)
    z = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, dim))
    # In blocks so the generator itself never holds the full float64 array.
    for start in range(0, n, 20000):
        m = min(20000, n - start)
        z[start : start + m] = rng.standard_normal((m, dim), dtype=np.float32) @ mix.T + offset
    z.flush()
    del z


def peak_rss_gb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**30


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--profile", action="store_true", help="print the top cProfile entries")
    ap.add_argument("--threads", type=int, default=None, help="analyze --threads (default: auto)")
    args = ap.parse_args()

    from latentatlas.cli import main as cli_main

    with tempfile.TemporaryDirectory() as tmp:
        npy = Path(tmp) / "z.npy"
        make_store(npy, args.n, args.dim)
        base_rss = peak_rss_gb()
        argv = ["analyze", str(npy), "--out", str(Path(tmp) / "atlas"), "--quiet"]
        if args.threads is not None:
            argv += ["--threads", str(args.threads)]
        t0 = time.perf_counter()
        if args.profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            rc = prof.runcall(cli_main, argv)
            pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
        else:
            rc = cli_main(argv)
        wall = time.perf_counter() - t0
        peak = peak_rss_gb()
        size_mb = (Path(tmp) / "atlas" / "index.html").stat().st_size / 2**20 if rc == 0 else 0
    ok_wall, ok_mem = wall < WALL_TARGET_S, peak < MEM_TARGET_GB
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"analyze {args.n} x {args.dim}: rc {rc}, index.html {size_mb:.1f} MB "
        f"({os.cpu_count()} cores, load average {load:.1f} before the run ended)"
    )
    print(
        f"wall time   {wall:6.1f} s   (target < {WALL_TARGET_S:.0f} s)   "
        f"{'OK' if ok_wall else 'MISSED'}"
    )
    print(
        f"peak memory {peak:6.2f} GB  (target < {MEM_TARGET_GB:.0f} GB)   "
        f"{'OK' if ok_mem else 'MISSED'}   (before analyze: {base_rss:.2f} GB)"
    )
    return 0 if rc == 0 and ok_wall and ok_mem else 1


if __name__ == "__main__":
    raise SystemExit(main())
