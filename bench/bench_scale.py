"""Time and peak memory of analyze, the generator fits and encode at the sizes of modern VAEs.

    python bench/bench_scale.py [--quick] [--cases 'analyze:*,encode'] [--timeout 900]

Cases (issue 18): ``analyze`` and the fits of the ``mvn``, ``pca``, ``gmm`` and ``percomponent``
(diagonal normal) generators on stores of (n, N) = 1M x 256, 4M x 256, 20k x 4,096,
3k x 16,384 and 2k x 65,536 (``--quick``: 100k, 400k, 2k, 600 and 300 rows, same N), and
``encode`` of 256-px images (128, ``--quick`` 32) through a Stable-Diffusion-shaped diffusers
``AutoencoderKL`` with random weights (block_out_channels 128/256/512/512, 4 latent channels:
N = 4 x 32 x 32 = 4,096), with encode's default settings.

Each case runs in a fresh process (``python -m latentatlas analyze …``, a fit script, ``python -m
latentatlas encode …``); its time is the process's wall time, imports and loading included, and
its peak memory the process's resident high-water mark (``wait4``). This process imports nothing
but the standard library, so the high-water mark a child inherits at its start is small. A case
that fails, runs past ``--timeout`` or grows beyond ``--max-rss`` (8 GB by default, to spare a
shared machine) is reported as such, with the last line it printed. The budgets of the issue,
printed beside each case, apply at full size on 2 cores. The stores, the model and the image
cache are generated once into ``--data-dir`` and reused; they need about 7 GB at full size.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = {
    "1M": (1_000_000, 256),
    "4M": (4_000_000, 256),
    "20k": (20_000, 4_096),
    "3k": (3_000, 16_384),
    "2k": (2_000, 65_536),
}
QUICK_ROWS = {"1M": 100_000, "4M": 400_000, "20k": 2_000, "3k": 600, "2k": 300}
FITS = ("percomponent", "mvn", "pca", "gmm")
ENCODE_IMAGES, QUICK_ENCODE_IMAGES, ENCODE_PX = 128, 32, 256
GB = 1 << 30
# (seconds, bytes) of issue 18 at full size; None where it sets none.
BUDGETS = {
    "analyze:1M": (60, 2.5 * GB),
    "analyze:4M": (None, 24 * GB),
    "analyze:20k": (180, None),
    "analyze:3k": (180, 4 * GB),
    "analyze:2k": (300, None),
    "encode": (None, 2 * GB),
}


def case_names() -> list[str]:
    names = [f"analyze:{k}" for k in SIZES]
    names += [f"fit-{g}:{k}" for k in SIZES for g in FITS]
    return [*names, "encode"]


# ---------------------------------------------------------------- data (in child processes)


def make_store(path: str, n: int, dim: int) -> None:
    """A z-point store of ``n`` correlated points (rank-32 factors plus noise, a non-zero mean),
    written in blocks: the shape of real latents, at any size, in bounded memory."""
    import numpy as np

    from latentatlas.data.store import write_store_extras

    rng = np.random.default_rng(0)
    rank = min(32, dim)
    factors = rng.normal(size=(rank, dim)) / np.sqrt(rank)
    scale = rng.uniform(0.3, 1.0, dim)
    mean = rng.normal(0, 0.5, dim)
    tmp = Path(path + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    z = np.lib.format.open_memmap(tmp / "z.npy", mode="w+", dtype=np.float32, shape=(n, dim))
    step = max(1, (1 << 24) // dim)
    for start in range(0, n, step):
        rows = min(step, n - start)
        block = rng.normal(size=(rows, rank)) @ factors + scale * rng.normal(size=(rows, dim))
        z[start : start + rows] = block + mean
        z.flush()
    del z
    split = (np.arange(n) % 10 == 0).astype(np.uint8)  # 10 % held out
    write_store_extras(tmp, (n, dim), np.arange(n).astype(str), split)
    tmp.rename(path)


def make_vae(path: str) -> None:
    """A diffusers AutoencoderKL shaped like Stable Diffusion 1.x's VAE, with random weights."""
    import torch
    from diffusers import AutoencoderKL

    torch.manual_seed(0)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(128, 256, 512, 512),
        layers_per_block=2,
        latent_channels=4,
        sample_size=ENCODE_PX,
        scaling_factor=0.18215,
    )
    vae.save_pretrained(path + ".part")
    os.rename(path + ".part", path)


def make_cache(path: str, n: int) -> None:
    """An image cache of ``n`` generated 256-px faces (the layout ``prepare`` writes)."""
    import numpy as np

    from latentatlas.core import files
    from latentatlas.data.synthetic import cartoon_face

    rng = np.random.default_rng(0)
    tmp = Path(path + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    images = np.stack(
        [np.asarray(cartoon_face(rng, ENCODE_PX, ENCODE_PX)[0]) for _ in range(n)]
    ).astype(np.uint8)
    np.save(tmp / "images.npy", images)
    np.save(tmp / "ids.npy", np.array([f"{i:06d}.png" for i in range(n)]))
    np.save(tmp / "split.npy", (np.arange(n) % 10 == 0).astype(np.uint8))
    manifest = {"format": "latentatlas-cache/1", "source": "generated", "size": ENCODE_PX, "n": n}
    manifest["sha256"] = files.checksums(tmp, ("images.npy", "ids.npy", "split.npy"))
    (tmp / "manifest.json").write_text(json.dumps(manifest))
    tmp.rename(path)


def fit(store: str, name: str) -> None:
    """Fit one generator on a store's train points, as ``sample`` and ``compare`` do."""
    from latentatlas.data.store import load_store
    from latentatlas.generators.registry import make_generator
    from latentatlas.generators.sampling import train_points

    make_generator(name).fit(train_points(load_store(store)))


CHILD = {"make-store": make_store, "make-vae": make_vae, "make-cache": make_cache, "fit": fit}


# ---------------------------------------------------------------- measuring (this process)


def measure(cmd: list[str], timeout: float, max_rss: int) -> dict:
    """Run ``cmd`` in a fresh process: wall seconds, peak RSS bytes, and how it ended."""
    with tempfile.TemporaryFile("w+") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        ended = None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            seconds = time.perf_counter() - t0
            if ended is None and seconds > timeout:
                ended = f"timeout after {timeout:.0f} s"
            elif ended is None and _rss(proc.pid) > max_rss:
                ended = f"killed above --max-rss {max_rss / GB:.1f} GB"
            if ended is not None:
                os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.2)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        lines = [line.strip() for line in log.read().splitlines() if line.strip()]
    if ended is None and proc.returncode != 0:
        ended = f"failed (exit {proc.returncode}): {lines[-1][:160] if lines else ''}"
    return {"seconds": seconds, "peak": usage.ru_maxrss * 1024, "ended": ended or "ok"}


def _rss(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def child(*args: str) -> list[str]:
    return [sys.executable, __file__, "--child", *args]


def ensure(path: Path, make: list[str]) -> None:
    """Create a data item once (in a child process, unmeasured)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.run(make, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"could not make {path}:\n{proc.stderr[-3000:]}")
    print(f"  (made {path.name} in {time.perf_counter() - t0:.0f} s)", flush=True)


def run_case(name: str, args: argparse.Namespace, work: Path) -> dict:
    latentatlas = [sys.executable, "-m", "latentatlas"]
    if name == "encode":
        n, dim = (QUICK_ENCODE_IMAGES if args.quick else ENCODE_IMAGES), 4 * (ENCODE_PX // 8) ** 2
        vae, cache = args.data_dir / "sd-vae-random", args.data_dir / f"cache-{ENCODE_PX}-{n}"
        ensure(vae, child("make-vae", str(vae)))
        ensure(cache, child("make-cache", str(cache), str(n)))
        cmd = [*latentatlas, "encode", str(vae), str(cache), "--out", str(work / "z"), "--quiet"]
        cmd += ["--device", "cpu"]
    else:
        verb, size = name.split(":")
        dim = SIZES[size][1]
        n = QUICK_ROWS[size] if args.quick else SIZES[size][0]
        store = args.data_dir / f"z-{n}x{dim}"
        ensure(store, child("make-store", str(store), str(n), str(dim)))
        if verb == "analyze":
            cmd = [*latentatlas, "analyze", str(store), "--out", str(work / "atlas"), "--quiet"]
        else:
            cmd = child("fit", str(store), verb.removeprefix("fit-"))
    result = measure(cmd, args.timeout, args.max_rss)
    seconds, peak = BUDGETS.get(name, (None, None))
    over = (seconds and result["seconds"] > seconds) or (peak and result["peak"] > peak)
    if result["ended"] == "ok" and over and not args.quick:
        result["ended"] = "ok, over budget"
    return {"case": name, "n": n, "N": dim, **result}


def budget_text(name: str) -> str:
    seconds, peak = BUDGETS.get(name, (None, None))
    parts = [f"≤ {seconds / 60:g} min" if seconds else "", f"≤ {peak / GB:g} GB" if peak else ""]
    return ", ".join(p for p in parts if p) or "—"


def row(r: dict) -> str:
    return (
        f"| {r['case']} | {r['n']:,} | {r['N']:,} | {r['seconds']:.1f} s | "
        f"{r['peak'] / GB:.2f} GB | {budget_text(r['case'])} | {r['ended']} |"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        what, *rest = sys.argv[2:]
        fn = CHILD[what]
        fn(*[int(a) if a.isdigit() else a for a in rest])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rows and images (same N)")
    ap.add_argument(
        "--cases",
        default="*",
        help="comma-separated names or patterns (default all): " + ", ".join(case_names()),
    )
    ap.add_argument("--timeout", type=float, help="seconds per case (default 900, quick 300)")
    ap.add_argument(
        "--max-rss", type=float, default=8.0, help="GB at which a case is stopped (default 8)"
    )
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "latentatlas-bench-scale",
        help="where the generated stores, model and cache are kept between runs",
    )
    ap.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = ap.parse_args()
    args.timeout = args.timeout or (300 if args.quick else 900)
    args.max_rss = int(args.max_rss * GB)
    patterns = [p.strip() for p in args.cases.split(",") if p.strip()]
    cases = [c for c in case_names() if any(fnmatch.fnmatchcase(c, p) for p in patterns)]
    if not cases:
        raise SystemExit(f"no case matches {args.cases!r}; cases: {', '.join(case_names())}")
    print(
        f"{len(cases)} case(s){' (quick sizes)' if args.quick else ''} on {os.cpu_count()} cores, "
        f"timeout {args.timeout:.0f} s, data in {args.data_dir}",
        flush=True,
    )
    header = "| case | n | N | time | peak RSS | budget (full size, 2 cores) | status |"
    results = []
    for name in cases:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as work:
            r = run_case(name, args, Path(work))
        results.append(r)
        print(row(r), flush=True)
    print(f"\n{header}\n|---|---:|---:|---:|---:|---|---|")
    for r in results:
        print(row(r))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
