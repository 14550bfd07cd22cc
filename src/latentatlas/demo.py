"""``latentatlas demo``: the whole study on the bundled CelebA model, offline, in about a minute.

Runs the verdict of every generator (``compare``), two coordinate-plane paths (``path``) and the
atlas (``analyze``, linked to the verdict) on the bundled ``celeba64`` assets, and writes a small
landing page that ties them together::

    OUT/index.html          the landing page: key numbers, the two paths, links
    OUT/atlas/index.html    the atlas report (sections 1-10)
    OUT/compare/index.html  the verdict table and one decoded grid per generator
    OUT/paths/*/strip.png   decoded z-points along a segment and a circle in one plane
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tqdm import tqdm

from latentatlas import atomic
from latentatlas.analysis import auto_pairs
from latentatlas.atlas import run_atlas
from latentatlas.compare import run_compare
from latentatlas.pretrained import celeba64
from latentatlas.report.html import Page
from latentatlas.sampling import path

# Smaller samples than the CLI defaults keep the demo near a minute on 2 cores; every number it
# prints says which sample it came from.
DEMO_SETTINGS = {"n": 300, "sample": 5000, "prdc_sample": 2000, "plot_points": 5000, "mc": 5000}


def run_demo(
    out: str | os.PathLike = "latentatlas-demo",
    seed: int = 0,
    overwrite: bool = False,
    progress: bool = True,
    n: int = DEMO_SETTINGS["n"],
    generators: tuple[str, ...] | None = None,
    settings: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Write the demo under ``out``; returns the five headline numbers and the page paths.

    ``generators`` (default: all) and ``settings`` (atlas sample sizes, see ``DEMO_SETTINGS``)
    exist for reduced runs such as the test suite's.
    """
    cfg = {**DEMO_SETTINGS, **(settings or {})}
    out = Path(out)
    atomic.check_new(out, overwrite)
    model, store = celeba64()
    pair = auto_pairs(store.z, k=1)[0]
    steps = tqdm(total=4, desc="demo", unit="step", disable=not progress)
    with atomic.atomic_dir(out, overwrite=overwrite) as tmp:
        steps.set_postfix_str("compare")
        verdict = run_compare(
            "celeba64", store, tmp / "compare", generators, n=n, seed=seed, progress=progress
        )
        steps.update()
        steps.set_postfix_str("paths")
        for kind in ("segment", "circle"):
            path("celeba64", store, tmp / "paths" / f"{kind}_{pair[0]}_{pair[1]}", kind, pair)
        steps.update()
        steps.set_postfix_str("atlas")
        summary = run_atlas(
            store,
            tmp / "atlas",
            seed=seed,
            progress=progress,
            verdict=tmp / "compare",
            sample=cfg["sample"],
            prdc_sample=cfg["prdc_sample"],
            plot_points=cfg["plot_points"],
            mc=cfg["mc"],
        )
        steps.update()
        headline = headline_numbers(summary, verdict)
        _landing_page(tmp, headline, pair)
        steps.update()
    steps.close()
    return {
        "index": str(out / "index.html"),
        "atlas": str(out / "atlas" / "index.html"),
        "compare": str(out / "compare" / "index.html"),
        **headline,
    }


def headline_numbers(summary: dict[str, Any], verdict: dict[str, Any]) -> dict[str, Any]:
    rows = {r["generator"]: r for r in verdict["rows"]}
    best = max(verdict["rows"], key=lambda r: (r["face_rate"], -r["two_sample_accuracy"]))
    first = summary["slices"]["pairs"][0]
    return {
        "b": summary["settings"]["b_fitted"],
        "origin_mahalanobis": summary["shape"]["origin_mahalanobis"],
        "share_further_than_origin": summary["shape"]["share_further_than_origin"],
        "slice": {"pair": first["pair"], "count": first["count"], "n": first["n"]},
        "cube_face_rate": rows["cube"]["face_rate"] if "cube" in rows else None,
        "best": {
            "generator": best["generator"],
            "face_rate": best["face_rate"],
            "two_sample_accuracy": best["two_sample_accuracy"],
        },
        "samples_per_generator": verdict["n"],
    }


def summary_lines(h: dict[str, Any]) -> list[str]:
    s, best = h["slice"], h["best"]
    return [
        f"fitted cube half-width b = {h['b']:.3g} (uniform cube whose radii best match the data)",
        f"origin's Mahalanobis distance = {h['origin_mahalanobis']:.3g} "
        f"({h['share_further_than_origin']:.1%} of real points lie further out)",
        f"slice ({s['pair'][0]}, {s['pair'][1]}) at b: {s['count']} of {s['n']} real points "
        "(every cube point is in it by construction)",
        f"uniform cube: {h['cube_face_rate']:.0%} of {h['samples_per_generator']} decoded "
        "samples are faces",
        f"best generator {best['generator']}: {best['face_rate']:.0%} faces, two-sample "
        f"accuracy {best['two_sample_accuracy']:.2f} (0.5 = indistinguishable from real)",
    ]


def _landing_page(directory: Path, headline: dict[str, Any], pair: tuple[int, int]) -> None:
    page = Page("latentatlas demo: the latent space of a CelebA autoencoder")
    sec = page.section(
        "summary",
        "In five lines",
        "The bundled celeba64 autoencoder (64x64 faces, N = 256) and the z-points "
        "of 10,000 CelebA images.",
    )
    for line in summary_lines(headline):
        page.note(sec, line)
    page.link(sec, "The atlas: where the z-points live (sections 1-10)", "atlas/index.html")
    page.link(sec, "The verdict: every generator, decoded and judged", "compare/index.html")
    sec = page.section(
        "paths",
        f"Paths in the plane of components {pair[0]} and {pair[1]}",
        "The other 254 components are held at the centroid of the real z-points.",
    )
    for kind, what in (
        ("segment", "from centroid - 3 sigma to centroid + 3 sigma in both components"),
        ("circle", "round the centroid at two standard deviations"),
    ):
        strip = directory / "paths" / f"{kind}_{pair[0]}_{pair[1]}" / "strip.png"
        page.image(
            sec,
            f"path_{kind}",
            strip.read_bytes(),
            f"decoded {kind}: {what}",
            f"latentatlas path celeba64 celeba64 --plane {pair[0]},{pair[1]} --kind {kind}",
        )
    page.write(directory)
