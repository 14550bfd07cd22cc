"""``latentatlas demo``: the whole study on the bundled CelebA model, offline, in under 45 s.

Runs the verdict of every generator (``compare``), two coordinate-plane paths (``path``) and the
atlas (``analyze``, linked to the verdict) on the bundled ``celeba64`` assets, and writes a small
landing page that ties them together::

    OUT/index.html          the landing page: decoded naive and fitted samples side by side,
                            the winner, the conclusions, links
    OUT/atlas/index.html    the atlas report (sections 1-11)
    OUT/compare/index.html  the verdict: winner, chart, table, decoded grids side by side
    OUT/paths/index.html    decoded z-points along a segment and a circle in the plane of the
                            two largest principal axes, labelled with their coordinates
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from tqdm import tqdm

from latentatlas.atlas import run_atlas
from latentatlas.atlas.conclusions import conclusion_lines
from latentatlas.core import atomic
from latentatlas.core.html import Page
from latentatlas.generators import GENERATORS
from latentatlas.generators.path_page import write_paths_page

# Smaller samples than the CLI defaults keep the demo under 45 s on 2 cores; every number it
# prints says which sample it came from.
DEMO_SETTINGS = {"n": 300, "sample": 5000, "prdc_sample": 2000, "plot_points": 5000, "mc": 5000}
# The image judge the demo's verdict uses: the attribute classifier, whose two numbers are
# ranking metrics. The face descriptor (~60 ms an image) and the CNN two-sample test are reported
# by `latentatlas compare` but rank nothing, and would take the demo past 45 s.
DEMO_JUDGES = ("attributes",)


def run_demo(
    out: str | os.PathLike = "latentatlas-demo",
    *,
    seed: int = 0,
    overwrite: bool = False,
    progress: bool = True,
    n: int = DEMO_SETTINGS["n"],
    generators: Sequence[str] | Mapping[str, Any] | None = None,
    settings: dict[str, int] | None = None,
    save_generators: bool = False,
) -> dict[str, Any]:
    """Write the demo under ``out``; returns the five headline numbers and the page paths.

    ``generators`` (default: every generator of ``GENERATORS``, no learned prior; names, or
    names to unfitted generators as ``run_compare`` takes them) and
    ``settings`` (atlas sample sizes, see ``DEMO_SETTINGS``) exist for reduced runs such as the
    test suite's; ``save_generators`` keeps the fitted generators (``compare``'s option, tens of
    MB). The model, the generators' sampling and the verdict (torch) are imported
    here, not with this module.
    """
    from latentatlas.generators.sampling import path
    from latentatlas.models.pretrained import celeba64
    from latentatlas.verdict.compare import run_compare

    cfg = {**DEMO_SETTINGS, **(settings or {})}
    out = Path(out)
    atomic.check_new(out, overwrite)
    model, store = celeba64()
    # The plane of the two largest principal axes: there the data varies most, so the decoded
    # face visibly changes along the path (two of 256 coordinate components barely move it).
    pair = (0, 1)
    # The verdict and paths pages lead back to the landing page and the atlas.
    around = [("The demo's landing page", "../index.html"), ("The atlas", "../atlas/index.html")]
    steps = tqdm(total=3, desc="demo", unit="step", disable=not progress)
    # The verdict (torch: decoding and judging; its generators fitted, sampled and decoded in
    # a thread of their own while the ones before are judged) runs in a second process while
    # this one decodes the paths and runs the atlas, whose analyses use one core (BLAS at one
    # thread): on two cores they overlap. Each process seeds its own work, so the numbers are
    # those of running one after the other. Spawned, not forked: a fork of a process whose
    # OpenMP pools have run can hang.
    with (
        atomic.atomic_dir(out, overwrite=overwrite) as tmp,
        ProcessPoolExecutor(
            1, mp_context=get_context("spawn"), initializer=one_thread_each
        ) as pool,
        _one_thread_here(),
    ):
        pending = pool.submit(
            run_compare,
            "celeba64",
            "celeba64",
            tmp / "compare",
            # No learned priors: they train networks, and the demo stays under 45 s.
            generators=generators or tuple(GENERATORS),
            n=n,
            seed=seed,
            progress=False,  # its bars would interleave with this process's
            judges=DEMO_JUDGES,
            judge_n=n,
            save_generators=save_generators,
            links=around,
            draw_ahead=True,
        )
        steps.set_postfix_str("paths")
        for kind in ("segment", "circle"):
            path(
                "celeba64",
                store,
                tmp / "paths" / PATHS[kind],
                kind=kind,
                pair=pair,
                frame="principal",
            )
        write_paths_page(
            tmp / "paths",
            [(PATHS[kind], _path_command(kind)) for kind in PATHS],
            PATHS_INTRO,
            around,
        )
        steps.update()
        steps.set_postfix_str("atlas (the verdict beside it)")

        def verdict_dir() -> Path:
            pending.result()  # waits for the verdict; its error, if any, is raised here
            return tmp / "compare"

        summary = run_atlas(
            store,
            tmp / "atlas",
            seed=seed,
            progress=progress,
            verdict=verdict_dir,
            sample=cfg["sample"],
            prdc_sample=cfg["prdc_sample"],
            plot_points=cfg["plot_points"],
            mc=cfg["mc"],
            source="celeba64 (bundled)",
            links=[("Decoded paths through the latent space", "../paths/index.html")],
        )
        verdict = pending.result()
        steps.update()
        headline = headline_numbers(summary, verdict)
        headline["lines"] = conclusion_lines(summary)
        _landing_page(tmp, headline, verdict)
        steps.update()
    steps.close()
    return {
        "index": str(out / "index.html"),
        "atlas": str(out / "atlas" / "index.html"),
        "compare": str(out / "compare" / "index.html"),
        "paths": str(out / "paths" / "index.html"),
        **headline,
    }


def one_thread_each() -> None:
    """Run in the verdict's process before it starts: one thread for torch, BLAS and OpenCV.

    Its threads share two cores with the atlas's process, and a threaded pool on a busy core
    spins and waits: measured on 2 loaded cores, the decoder, the Haar detector and the
    eigen-solvers took 2-20x the CPU time at two threads that they take at one."""
    import cv2
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    threadpool_limits(limits=1)


@contextmanager
def _one_thread_here() -> Iterator[None]:
    """This process (the paths' decoder, the atlas) beside the verdict's: torch, BLAS and OpenMP
    (scikit-learn's k-means) at one thread, restored after."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)


def headline_numbers(summary: dict[str, Any], verdict: dict[str, Any]) -> dict[str, Any]:
    rows = {r["generator"]: r for r in verdict["rows"]}
    ranking = verdict["ranking"]
    best = rows[ranking["winner"]]
    first = summary["slices"]["pairs"][0]
    return {
        "b": summary["settings"]["b_fitted"],
        "origin_mahalanobis": summary["shape"]["origin_mahalanobis"],
        "share_further_than_origin": summary["shape"]["share_further_than_origin"],
        "slice": {"pair": first["pair"], "count": first["count"], "n": first["n"]},
        # None where the face rate does not apply (the reference images are not faces).
        "cube_face_rate": rows["cube"].get("face_rate") if "cube" in rows else None,
        "best": {
            "generator": best["generator"],
            "face_rate": best.get("face_rate"),
            "two_sample_accuracy": best["two_sample_accuracy"],
            "tied_with": ranking["tied_with_winner"],
            "rule": ranking["rule"],
        },
        "samples_per_generator": verdict["n"],
    }


def summary_lines(h: dict[str, Any]) -> list[str]:
    """What the demo prints: the atlas's conclusions and the verdict's winner with its rule
    (the same lines as ``latentatlas analyze``), then the cube's face rate."""
    lines = list(h["lines"])
    if h["cube_face_rate"] is not None:
        lines.insert(
            len(lines) - 2,  # before the winner and its rule
            f"Decoded, {h['cube_face_rate']:.0%} of {h['samples_per_generator']} uniform-cube "
            "samples are faces.",
        )
    return lines


PATHS = {"segment": "segment_pc1_pc2", "circle": "circle_pc1_pc2"}
PATHS_INTRO = (
    "Paths in the plane of the two largest principal axes of the real z-points (pc1, pc2; "
    "coordinates relative to the centroid), the other 254 principal coordinates held at the "
    "centroid. Segment: from -3 to +3 standard deviations along both axes; circle: round the "
    "centroid at two standard deviations."
)


# How to open the interactive explorer on the same model (it needs a running server, so the
# static pages can only say how).
EXPLORE_COMMAND = "latentatlas explore celeba64"
EXPLORE_NOTE = (
    f"Explore it yourself: `{EXPLORE_COMMAND}` (with make demo's environment: "
    f"`.venv/bin/{EXPLORE_COMMAND}`) serves an interactive explorer on 127.0.0.1 and opens it "
    "in your browser: click anywhere in a plane of the z-points and see what the decoder makes "
    "there, with its Mahalanobis distance; move sliders along principal axes and attribute "
    "directions; overlay any generator; decode paths."
)


def _path_command(kind: str) -> str:
    return f"latentatlas path celeba64 celeba64 --plane 0,1 --frame principal --kind {kind}"


# The landing page's first picture: the naive priors beside fitted ones (those in the verdict).
PICTURE = (
    ("cube", "uniform cube [-b, b]^N"),
    ("normal", "N(0, I)"),
    ("mvn", "a normal fitted to the z-points"),
    ("gmm", "a Gaussian mixture fitted to them"),
)
PICTURE_INTRO = (
    "Decoded samples of the uniform cube and of N(0, I), which ignore where the z-points lie, "
    "beside generators fitted to the z-points. Under each: how well a classifier tells the "
    "samples from held-out real z-points (two-sample accuracy; 0.50: it cannot tell them "
    "apart) and the share of decoded samples in which the face detector finds a face. Click a "
    "grid to enlarge it."
)


def _landing_page(directory: Path, headline: dict[str, Any], verdict: dict[str, Any]) -> None:
    from latentatlas.verdict.page import slug
    from latentatlas.verdict.ranking import faces_apply, margin_sentence, winner_sentence

    page = Page("latentatlas demo: the latent space of a CelebA autoencoder")
    rows = {r["generator"]: r for r in verdict["rows"]}
    sec = page.section("sampling", "Why sampling the cube or N(0, I) fails", PICTURE_INTRO)
    items = []
    for name, what in PICTURE:
        grid = directory / "compare" / f"grid_{slug(name)}.png"
        if name not in rows or not grid.is_file():
            continue
        row = rows[name]
        key = f"two-sample accuracy {row['two_sample_accuracy']:.2f}"
        if row.get("face_rate") is not None:
            key += f", face rate {row['face_rate']:.0%}"
        items.append((f"sample_{slug(name)}", grid.read_bytes(), f"{name}: {what}", key))
    page.gallery(sec, items)
    ranking = verdict["ranking"]
    page.verdict_line(
        sec,
        winner_sentence(ranking, verdict["rows"]),
        margin_sentence(ranking, verdict["rows"]),
        "compare/index.html#rule",
    )
    if not faces_apply(verdict):  # the demo's model decodes faces; said if ever not
        page.note(sec, f"Face judges: {verdict['domain']['reason']}.")
    page.lead_key = sec.key
    sec = page.section(
        "summary",
        "In plain words",
        "The bundled celeba64 autoencoder (64x64 faces, N = 256) and the z-points "
        "of 10,000 CelebA images.",
    )
    lines = summary_lines(headline)
    page.bullets(sec, lines[:-2], "conclusions")  # the winner and its rule are shown above
    page.link(sec, "The atlas: where the z-points live (sections 1-11)", "atlas/index.html")
    page.link(sec, "The verdict: every generator, decoded and judged", "compare/index.html")
    page.link(
        sec,
        "Decoded paths through the plane of the two largest principal axes",
        "paths/index.html",
    )
    page.note(sec, EXPLORE_NOTE)
    page.write(directory)
