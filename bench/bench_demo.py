"""Time of ``latentatlas demo`` and of its stages, in one run.

    python bench/bench_demo.py [--out DIR]

Runs the demo (``run_demo``, as ``latentatlas demo`` does) on the bundled ``celeba64`` assets into
a fresh temporary folder (or ``--out``, replaced) and prints: the wall time; the CPU time of this
process and of the verdict's process (user + sys, ``getrusage``); the load average before and
after (other work on the machine makes every time longer); then the stages of this process (the
paths, each atlas section, how long section 11 waited for the verdict) and the verdict's
per-generator seconds (fit + judging, from ``verdict.json``; with the demo's fit-ahead these
overlap). Heavy (a minute on 2 cores): run it under ``flock /tmp/heavy.lock`` on a shared
machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path


def cpu_seconds(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="demo folder (replaced)")
    args = ap.parse_args()

    import latentatlas.atlas.demo as demo
    import latentatlas.atlas.run as run

    marks: dict[str, float] = {}
    sections: list[tuple[str, float]] = []

    def timed(name, fn):
        def stage(ctx, page) -> None:
            t = time.perf_counter()
            fn(ctx, page)
            marks["stage ends"] = time.perf_counter()
            sections.append((name, marks["stage ends"] - t))

        return stage

    run.STAGES = tuple((name, timed(name, fn)) for name, fn in run.STAGES)
    run.VERDICT_SECTION = (run.VERDICT_SECTION[0], timed(*run.VERDICT_SECTION))
    atlas, load_verdict = demo.run_atlas, run.load_verdict

    def run_atlas(*a, **k):
        marks["atlas starts"] = time.perf_counter()
        return atlas(*a, **k)

    def verdict_arrives(*a, **k):
        marks["verdict read"] = time.perf_counter()
        marks["waited"] = marks["verdict read"] - marks["stage ends"]
        return load_verdict(*a, **k)

    demo.run_atlas, run.load_verdict = run_atlas, verdict_arrives

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out if args.out is not None else Path(tmp) / "demo"
        load = os.getloadavg()
        cpu0, kids0 = cpu_seconds(resource.RUSAGE_SELF), cpu_seconds(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        demo.run_demo(out, overwrite=True, progress=False)
        wall = time.perf_counter() - t0
        cpu = cpu_seconds(resource.RUSAGE_SELF) - cpu0
        kids = cpu_seconds(resource.RUSAGE_CHILDREN) - kids0
        verdict = json.loads((out / "compare" / "verdict.json").read_text())

    print(f"demo: wall {wall:.1f} s; CPU {cpu + kids:.1f} s (this process {cpu:.1f}, the")
    print(f"  verdict's process {kids:.1f}); load average before {load[0]:.2f}, after")
    print(f"  {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs")
    print(f"  {'paths (and the start)':40s} {marks['atlas starts'] - t0:6.1f} s")
    for name, seconds in sections:
        print(f"  atlas: {name:33s} {seconds:6.1f} s")
    print(f"  {'verdict read after':40s} {marks['verdict read'] - t0:6.1f} s")
    print(f"  {'(the atlas waited for it':40s} {marks['waited']:6.1f} s)")
    for row in verdict["rows"]:
        print(f"  verdict: {row['generator']:31s} {row['seconds']:6.1f} s (fit + judging)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
