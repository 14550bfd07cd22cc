"""Encode throughput and peak memory on a large generated image cache, in one run.

    python bench/bench_encode.py [--n 200000] [--batch-size 256]

Generates a 64x64 cache of --n cartoon faces (a pool of rendered faces, recoloured per row so no
two rows are equal), then encodes it with the bundled celeba64 model, once in one process and
once under torchrun with 2 processes. Prints img/s of each against pure encoder compute (the
same model on one in-memory batch, same batch size; goal >= 0.9x) and the peak resident memory of
the largest encode process (goal < 1.5 GB: images are read and z written one batch at a time).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from latentatlas.core.files import allocate_npy
from latentatlas.data.synthetic import cartoon_face

SIZE, POOL, CHUNK = 64, 512, 8192


def make_cache(out: Path, n: int) -> None:
    """A cache of ``n`` rows written in chunks (memory stays small whatever ``n``)."""
    rng = np.random.default_rng(0)
    pool = np.stack([np.asarray(cartoon_face(rng, SIZE, SIZE)[0]) for _ in range(POOL)])
    out.mkdir(parents=True)
    allocate_npy(out / "images.npy", np.uint8, (n, SIZE, SIZE, 3))
    images = np.lib.format.open_memmap(out / "images.npy", mode="r+")
    for start in range(0, n, CHUNK):
        rows = np.arange(start, min(start + CHUNK, n))
        faces = pool[rows % POOL].astype(np.int16)
        faces += (rows // POOL % 64).astype(np.int16)[:, None, None, None]  # a per-row tint
        images[rows[0] : rows[-1] + 1] = np.clip(faces, 0, 255).astype(np.uint8)
    images.flush()
    del images
    np.save(out / "ids.npy", np.array([f"{i:06d}.png" for i in range(n)]))
    np.save(out / "split.npy", (np.arange(n) % 10 == 0).astype(np.uint8))
    manifest = {"format": "latentatlas-cache/1", "source": "generated", "size": SIZE, "n": n}
    (out / "manifest.json").write_text(json.dumps(manifest))


def encoder_compute(n_images: int, batch: int) -> float:
    from latentatlas.models import load_latent_model

    model = load_latent_model("celeba64", torch.device("cpu"))
    # channels_last, as to_tensor hands cached (n, h, w, 3) images to the encoder.
    x = torch.rand(batch, 3, SIZE, SIZE).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        model.encode(x)  # warm-up
        t0 = time.perf_counter()
        for _ in range(0, n_images, batch):
            model.encode(x)
    return -(-n_images // batch) * batch / (time.perf_counter() - t0)


def worker(cache: str, out: str, batch: int) -> None:
    """One encode process: times encode() and reports its own peak memory."""
    from latentatlas.models.encode import encode

    t0 = time.perf_counter()
    encode("celeba64", cache, out, batch_size=batch, device="cpu", progress=False)
    seconds = time.perf_counter() - t0
    # VmHWM, not ru_maxrss: ru_maxrss keeps the high-water mark of the parent it was forked from
    # (the bench itself, which has just written the cache).
    status = Path("/proc/self/status").read_text()
    peak_mb = int(re.search(r"VmHWM:\s*(\d+) kB", status).group(1)) / 1024
    print("BENCH " + json.dumps({"seconds": seconds, "peak_mb": peak_mb}), flush=True)


def run_encode(procs: int, cache: Path, out: Path, batch: int) -> tuple[float, float]:
    threads = max(1, (os.cpu_count() or 1) // procs)
    launcher = (
        ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}"]
        if procs > 1
        else []
    )
    cmd = [sys.executable, *launcher, __file__, "--worker", str(cache), str(out), str(batch)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.exit(proc.stderr[-3000:])
    # The ranks share stdout, so their lines may interleave.
    reports = [json.loads(m) for m in re.findall(r"BENCH (\{[^}]*\})", proc.stdout)]
    assert len(reports) == procs, proc.stdout
    return max(r["seconds"] for r in reports), max(r["peak_mb"] for r in reports)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000, help="images in the generated cache")
    ap.add_argument("--batch-size", type=int, default=256)
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        make_cache(tmp / "cache", args.n)
        size_gb = (tmp / "cache" / "images.npy").stat().st_size / 1e9
        print(
            f"cache: {args.n} images {SIZE}x{SIZE} ({size_gb:.2f} GB) generated in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        os.sync()  # the cache's writeback would otherwise slow the baseline down
        base = encoder_compute(min(args.n, 20 * args.batch_size), args.batch_size)
        results = {
            procs: run_encode(procs, tmp / "cache", tmp / f"z{procs}", args.batch_size)
            for procs in (1, 2)
        }
        again = encoder_compute(min(args.n, 20 * args.batch_size), args.batch_size)
        print(f"pure encoder compute: {base:.0f} img/s before the encodes, {again:.0f} after")
        base = max(base, again)  # the faster one: the stricter ratio
        for procs, (seconds, peak) in results.items():
            rate = args.n / seconds
            print(
                f"encode, {procs} process(es): {rate:.0f} img/s = {rate / base:.2f}x pure "
                f"compute (goal >= 0.9x); peak memory {peak:.0f} MB per process "
                f"(goal < 1500 MB)"
            )
        z1 = np.load(tmp / "z1" / "z.npy", mmap_mode="r")
        z2 = np.load(tmp / "z2" / "z.npy", mmap_mode="r")
        same = all(
            np.array_equal(z1[i : i + CHUNK], z2[i : i + CHUNK]) for i in range(0, len(z1), CHUNK)
        )
        print(f"1- and 2-process z identical: {same}")


if __name__ == "__main__":
    main()
