"""``latentatlas explore`` in a real browser: time to first paint and click-to-face latency.

    python bench/bench_explore.py [--sizes 10000 200000 1000000] [--clicks 100] [--loads 3]

For each size the CLI serves the bundled celeba64 model on a free port (10,000: its own store;
any other size: a bare (n, 256) .npy drawn from the full-covariance normal fitted to the bundled
train z-points, seed 0). Headless Chromium (Debian's ``chromium``, playwright-python) then

- loads the page ``--loads`` times; first paint = milliseconds from navigation start until
  plotly has drawn every point (the page's own ``window.__explore.firstPaint``);
- clicks ``--clicks`` times at random places in the plane (seed 0), each after the previous face
  has appeared; click-to-face = milliseconds from the click event to the decoded PNG loaded in
  its <img> (server round trip, decode and PNG included), measured in the page.

Beyond 250,000 points (the 1,000,000 case) the page draws a density image and the points only
once zoomed in; the first paint is then that image's, and after the clicks the page zooms into
the middle sixteenth of each axis: milliseconds until that view's points are drawn, and how many.

Goals (issue 19): first paint < 3 s at 200,000 points and < 5 s at 1,000,000, click-to-face p95
< 150 ms at both, on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


def make_store(n: int, out: Path) -> Path:
    from latentatlas.data.store import load_store
    from latentatlas.generators import make_generator

    train = np.asarray(load_store("celeba64").subset("train"), dtype=np.float64)
    z = make_generator("mvn").fit(train).sample(n, random_state=0).astype(np.float32)
    path = out / f"z{n}.npy"
    np.save(path, z)
    return path


def start_server(store: str) -> tuple[subprocess.Popen, str, float]:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "latentatlas", "explore", "celeba64", store]
    proc = subprocess.Popen(
        [*cmd, "--port", "0", "--no-browser", "--device", "cpu"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+/", line)
    if not found:
        proc.kill()
        raise SystemExit(f"the server did not start: {line}{proc.stdout.read()}")
    return proc, found.group(0), time.perf_counter() - t0


DENSE = "document.getElementById('plot-area').data.some((t) => t.type === 'heatmap')"
# Zoom to the middle sixteenth of each axis (a density image): the new image and its points drawn.
ZOOM = """() => { const p = document.getElementById('plot-area'), fl = p._fullLayout;
  const xr = fl.xaxis.range, yr = fl.yaxis.range;
  const w = (xr[1] - xr[0]) / 32, h = (yr[1] - yr[0]) / 32;
  const cx = (xr[0] + xr[1]) / 2, cy = (yr[0] + yr[1]) / 2;
  window.__explore.densityDrawn = null; window.__zoomStart = performance.now();
  Plotly.relayout(p, {'xaxis.range': [cx - w, cx + w], 'yaxis.range': [cy - h, cy + h]}); }"""


def _zoom(page) -> dict:
    """Milliseconds from a zoom into a density image until its points are drawn, and how many."""
    page.evaluate(ZOOM)
    page.wait_for_function("window.__explore.densityDrawn !== null")
    ms = page.evaluate("window.__explore.densityDrawn - window.__zoomStart")
    return {"ms": round(ms), "points": page.evaluate("window.__explore.densityPoints")}


def measure(browser, url: str, loads: int, clicks: int) -> dict:
    paints = []
    for _ in range(loads):
        page = browser.new_page(viewport={"width": 1400, "height": 800})
        page.set_default_timeout(120_000)
        page.goto(url)
        page.wait_for_function("window.__explore.ready && window.__explore.firstPaint !== null")
        paints.append(page.evaluate("window.__explore.firstPaint"))
        page.close()
    page = browser.new_page(viewport={"width": 1400, "height": 800})
    page.set_default_timeout(120_000)
    page.goto(url)
    page.wait_for_function("window.__explore.ready && window.__explore.decodes >= 1")
    box = page.locator(".draglayer .nsewdrag").bounding_box()
    rng = np.random.default_rng(0)
    before = len(page.evaluate("window.__explore.latencies"))
    for _ in range(clicks):
        done = page.evaluate("window.__explore.decodes")
        fx, fy = rng.uniform(0.05, 0.95, size=2)
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        page.wait_for_function(f"window.__explore.decodes > {done}")
    lat = np.asarray(page.evaluate("window.__explore.latencies")[before:])
    zoom = _zoom(page) if page.evaluate(DENSE) else None
    page.close()
    return {
        "zoom": zoom,
        "first_paint_ms": paints,
        "clicks": len(lat),
        "click_median_ms": float(np.median(lat)),
        "click_p95_ms": float(np.percentile(lat, 95)),
        "click_max_ms": float(lat.max()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 200000, 1000000])
    ap.add_argument("--clicks", type=int, default=100)
    ap.add_argument("--loads", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("no chromium on PATH (apt-get install -y chromium)")
    results = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        for n in args.sizes:
            store = "celeba64" if n == 10000 else str(make_store(n, Path(tmp)))
            load_before = os.getloadavg()[0]
            proc, url, startup = start_server(store)
            try:
                r = {
                    "n": n,
                    "server_start_s": round(startup, 2),
                    **measure(browser, url, args.loads, args.clicks),
                }
            finally:
                proc.terminate()
                proc.wait(timeout=30)
            r["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
            results.append(r)
            paints = ", ".join(f"{v / 1000:.2f}" for v in r["first_paint_ms"])
            print(
                f"n = {n:>7,}: server up in {r['server_start_s']:.1f} s; first paint {paints} s; "
                f"click-to-face over {r['clicks']} clicks: median {r['click_median_ms']:.0f} ms, "
                f"p95 {r['click_p95_ms']:.0f} ms, max {r['click_max_ms']:.0f} ms "
                f"(load average {r['load_average'][0]} -> {r['load_average'][1]})"
                + (
                    f"; density image, zoomed in: {r['zoom']['points']:,} points drawn"
                    f" {r['zoom']['ms']} ms after the zoom"
                    if r["zoom"]
                    else ""
                ),
                flush=True,
            )
        browser.close()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
