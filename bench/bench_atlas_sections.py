"""Time of each atlas section and the peak memory of ``latentatlas analyze`` at one (n, N).

    python bench/bench_atlas_sections.py --n 20000 --N 4096 [--skip-fragmentation] [--keep DIR]

Draws ``standard_normal((n, N)) * 0.5 + 0.2`` into a float32 ``.npy`` (in blocks, so the data
never sits in memory whole), runs ``latentatlas analyze`` on it in this process with a timer around
each stage, and prints the seconds per stage, the wall time and the peak RSS (``ru_maxrss``, which
counts the memory-mapped store's pages it touched). ``--skip-fragmentation`` replaces section 10
by a stub (it is measured apart while it is rewritten). Heavy: run it under
``flock /tmp/heavy.lock`` on a shared machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap


def make_points(path: Path, n: int, N: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    z = open_memmap(path, mode="w+", dtype=np.float32, shape=(n, N))
    step = max(1, 2**24 // N)
    for s in range(0, n, step):
        e = min(n, s + step)
        z[s:e] = rng.standard_normal((e - s, N)) * 0.5 + 0.2
    z.flush()
    del z


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--N", type=int, required=True)
    ap.add_argument("--skip-fragmentation", action="store_true")
    ap.add_argument("--keep", type=Path, default=None, help="directory for the data and report")
    args = ap.parse_args()

    import latentatlas.atlas.run as run
    from latentatlas.cli import main as cli_main

    times: list[tuple[str, float]] = []

    def skipped(ctx, page) -> None:
        ctx.summary["fragmentation"] = {"skipped": "bench: measured apart"}

    stages = []
    for name, fn in run.STAGES:
        if args.skip_fragmentation and name.startswith("10"):
            fn = skipped

        def timed(ctx, page, fn=fn, name=name) -> None:
            t = time.perf_counter()
            fn(ctx, page)
            times.append((name, time.perf_counter() - t))

        stages.append((name, timed))
    run.STAGES = tuple(stages)

    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        data = where / f"z_{args.n}x{args.N}.npy"
        if not data.exists():
            make_points(data, args.n, args.N)
        t0 = time.perf_counter()
        out = str(where / "atlas")
        rc = cli_main(["analyze", str(data), "--out", out, "--overwrite", "--quiet"])
        wall = time.perf_counter() - t0
    for name, sec in times:
        print(f"{name:32s} {sec:8.1f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    frag = " (section 10 skipped)" if args.skip_fragmentation else ""
    print(f"analyze {args.n:,} x {args.N:,}: {wall:.1f} s wall, peak RSS {peak:.2f} GB{frag}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
