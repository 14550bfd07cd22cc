"""The paths page: one labelled strip per decoded path (``latentatlas path``'s output folders)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from latentatlas.core.html import Page
from latentatlas.core.numbers import fmt


def describe(info: dict) -> str:
    """One line saying where a path runs, from its ``path.json``; a plane path in standard
    deviations from its base, as its frames are labelled."""
    axes = " and ".join(info.get("axes", []))
    if "coords_sigma" in info:
        first, last = _sigmas(info["coords_sigma"][0]), _sigmas(info["coords_sigma"][-1])
        radii = zip(info.get("radius", []), info["sigma"], strict=False)  # none on a segment
        radius = _sigmas(r / s for r, s in radii)
        base = info.get("base")
        about = " about the centroid" if base == "centroid" else f" about image {base}"
    else:  # a path.json written before frames were labelled in σ: raw coordinates
        first, last = fmt(info["coords"][0]), fmt(info["coords"][-1])
        radius, about = fmt(info.get("radius")), ""
    if info["kind"] == "segment":
        return f"segment in the plane of {axes}, from {first} to {last}{about}"
    if info["kind"] == "circle":
        return f"circle in the plane of {axes}, radii {radius}{about}"
    return f"{info['kind']} between images {' and '.join(info.get('between', []))}"


def _sigmas(values: Iterable[float]) -> str:
    return "(" + ", ".join(f"{fmt(float(v))}σ" for v in values) + ")"


def write_paths_page(
    directory: Path, paths: Sequence[tuple[str, str]], intro: str = "", links=()
) -> None:
    """Write ``directory/index.html`` showing ``directory/<name>/labelled.png`` for each
    (name, command) in ``paths``: the strip, what the path is and the command that made it."""
    page = Page("latentatlas: decoded paths through the latent space")
    sec = page.section(
        "paths",
        "Paths",
        intro
        or "Each frame is one z-point on the path, decoded; its coordinates are printed under it "
        "(for a path in a plane: standard deviations of the train points from the base).",
    )
    for name, command in paths:
        info = json.loads((directory / name / "path.json").read_text(encoding="utf-8"))
        png = (directory / name / "labelled.png").read_bytes()
        page.image(sec, f"path_{name}", png, f"{name}: {describe(info)}", command)
    for text, href in links:
        page.link(sec, text, href)
    page.write(directory)
