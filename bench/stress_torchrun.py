"""Repeated two-process ``torchrun`` trainings on a loaded machine: how many end in failure.

    python bench/stress_torchrun.py [--runs 45] [--busy 3]

Builds a 96-image cache at 16x16, then runs ``torchrun --standalone --nproc_per_node=2 -m
latentatlas train`` (3 epochs of a tiny model, as ``tests/models/test_train.py`` does) ``--runs``
times, each into a new folder, while ``--busy`` processes multiply matrices beside it (a CI
machine running the test suite). Prints each failure's first stderr line and the count.

Races at a process's end show up only under load: before ``latentatlas`` ended its torchrun
processes through ``models.distributed.exit_now``, 3 of 122 runs aborted in Python's shutdown
("terminate called without an active exception"). About 12 s a run on 2 loaded cores.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TINY = ["--latent-dim", "8", "--channels", "8,16", "--batch-size", "16", "--epochs", "3"]


def busy(stop: float) -> None:
    import numpy as np

    a = np.random.default_rng(0).random((600, 600))
    while time.time() < stop:
        a @ a


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=45)
    ap.add_argument("--busy", type=int, default=3, help="busy processes beside the runs")
    args = ap.parse_args()

    from latentatlas.data.prepare import prepare
    from latentatlas.data.synthetic import make_celeba_layout

    root = Path(tempfile.mkdtemp(prefix="stress-torchrun-"))
    make_celeba_layout(root / "celeba", 96, size=(45, 55), seed=1)
    cache = root / "cache"
    prepare(root / "celeba", cache, size=16, workers=1, progress=False)

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    burners = [
        mp.Process(target=busy, args=(time.time() + 3600,), daemon=True) for _ in range(args.busy)
    ]
    for p in burners:
        p.start()
    failures, t0 = 0, time.perf_counter()
    try:
        for i in range(args.runs):
            done = subprocess.run(
                [sys.executable, "-m", "torch.distributed.run", "--standalone"]
                + ["--nproc_per_node=2", "-m", "latentatlas", "train", str(cache)]
                + ["--out", str(root / f"run{i}"), "--lr", "5e-3", "--quiet", *TINY],
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if done.returncode:
                failures += 1
                first = next((ln for ln in done.stderr.splitlines() if ln.strip()), "")
                print(f"run {i + 1}: exit {done.returncode}: {first[:200]}", flush=True)
    finally:
        for p in burners:
            p.terminate()
    print(
        f"{failures} of {args.runs} two-process trainings failed, with {args.busy} busy "
        f"processes beside them on {os.cpu_count()} CPUs ({time.perf_counter() - t0:.0f} s)"
    )


if __name__ == "__main__":
    main()
