"""The paths page: one labelled strip per decoded path (``latentatlas path``'s output folders)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from latentatlas.core.html import Page
from latentatlas.core.numbers import fmt


def describe(info: dict) -> str:
    """One line saying where a path runs, from its ``path.json``."""
    axes = " and ".join(info.get("axes", []))
    first, last = info["coords"][0], info["coords"][-1]
    if info["kind"] == "segment":
        return f"segment in the plane of {axes}, from {fmt(first)} to {fmt(last)}"
    if info["kind"] == "circle":
        return f"circle in the plane of {axes}, radii {fmt(info['radius'])}"
    return f"{info['kind']} between images {' and '.join(info.get('between', []))}"


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
        or "Each frame is one z-point on the path, decoded; its coordinates are printed under it.",
    )
    for name, command in paths:
        info = json.loads((directory / name / "path.json").read_text(encoding="utf-8"))
        png = (directory / name / "labelled.png").read_bytes()
        page.image(sec, f"path_{name}", png, f"{name}: {describe(info)}", command)
    for text, href in links:
        page.link(sec, text, href)
    page.write(directory)
