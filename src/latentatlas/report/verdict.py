"""The verdict page of ``latentatlas compare``: the table, the detector check, the image grids.

``COLUMNS`` is shared with the atlas's section 11, which shows the same table.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from latentatlas.imaging import square_grid
from latentatlas.report.html import Page, Section

# (key in a verdict row, column header); "fitted" and "seconds" are shown per generator below.
COLUMNS = (
    ("generator", "generator"),
    ("class", "class"),
    ("n", "n"),
    ("face_rate", "face rate"),
    ("two_sample_accuracy", "two-sample accuracy"),
    ("mahalanobis_tail", "Mahalanobis tail"),
    ("precision", "precision"),
    ("recall", "recall"),
    ("density", "density"),
    ("coverage", "coverage"),
    ("reencoding_drift", "re-encoding drift"),
    ("copy_distance", "copy distance"),
)

INTRO = (
    "Each generator is fitted on the train z-points, sampled, decoded, and judged against "
    "held-out real z-points it never saw. Face rate: share of decoded samples in which the face "
    "detector finds a face. Two-sample accuracy: cross-validated accuracy of an MLP telling "
    "samples from held-out points (0.5 = indistinguishable, 1 = fully separated). Mahalanobis "
    "tail: share beyond the 99th percentile of the held-out points' distances. Precision, "
    "recall, density, coverage: k-NN manifold metrics (Naeem et al. 2020, k = 5). Re-encoding "
    "drift and copy distance: relative to held-out real points (1 = like real data; copy "
    "distance near 0 = copies of training points)."
)


def write_verdict_page(
    verdict: Mapping[str, Any], grids: Mapping[str, np.ndarray], directory: Path
) -> None:
    """Write ``directory/index.html`` (grids embedded) and the grid PNGs beside it."""
    page = Page("latentatlas compare: the generators' verdict")
    det = verdict["detector"]
    page.add_header_table(
        [
            ("checkpoint", verdict.get("checkpoint", "")),
            ("samples per generator", verdict["n"]),
            ("seed", verdict["seed"]),
            ("train z-points (fitting)", verdict["n_train"]),
            ("held-out z-points (judging)", verdict["n_heldout"]),
        ]
    )
    sec = page.section("table", "The verdict", INTRO)
    add_verdict_table(page, sec, verdict)

    sec = page.section(
        "grids",
        "Decoded samples",
        "The first 64 samples of each generator, decoded (same seed for all).",
    )
    rates = {row["generator"]: row for row in verdict["rows"]}
    for name, images in grids.items():
        row = rates.get(name)
        key = (
            f"face rate {row['face_rate']:.1%}, two-sample accuracy "
            f"{row['two_sample_accuracy']:.2f}"
            if row
            else f"face rate {det['reconstructions']:.1%} (detector ceiling)"
        )
        page.image(sec, f"grid_{slug(name)}", _png(images), f"{name}: decoded samples", key)

    sec = page.section(
        "fitted",
        "Fitted parameters",
        "What each generator learnt from the train z-points (arrays summarised).",
    )
    for row in verdict["rows"]:
        page.key_values(
            sec,
            [(k, v) for k, v in _flat(row["fitted"])],
            f"{row['generator']} ({row['class']}), {row['seconds']} s",
        )
    page.write(directory)


def add_verdict_table(
    page: Page, sec: Section, verdict: Mapping[str, Any], caption: str = ""
) -> None:
    """The table, the detector's ceiling/floor and the disagreement notes (shared with the
    atlas's section 11)."""
    det = verdict["detector"]
    page.table(
        sec,
        [label for _, label in COLUMNS],
        [[row[key] for key, _ in COLUMNS] for row in verdict["rows"]],
        caption,
    )
    page.note(
        sec,
        f"Face detector {det['name']}: faces found in {_share(det['reconstructions'])}"
        f" of {det['n']} decoded held-out reconstructions (the ceiling) and in "
        f"{_share(det['noise'])} of {det['n']} noise images (the floor).",
    )
    for note in verdict["disagreements"] or ["The latent metrics and the face rate agree."]:
        page.note(sec, note)


def _share(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_")


def _png(images: np.ndarray) -> bytes:
    buf = io.BytesIO()
    square_grid(images).save(buf, format="PNG")
    return buf.getvalue()


def _flat(d: Mapping[str, Any], prefix: str = ""):
    for k, v in d.items():
        if isinstance(v, Mapping):
            yield from _flat(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v
