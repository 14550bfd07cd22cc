"""The verdict as a chart: one bar group per metric, one bar per generator, reference lines.

Reference lines mark what real data scores where that is known: the detector's rate on decoded
held-out reconstructions (the face-rate ceiling) and on noise (its floor), 0.5 for the two-sample
accuracy, 0.01 for the Mahalanobis tail (the 99th percentile by construction) and 1 for the
ratios to held-out real points (density, re-encoding drift, copy distance, spread).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

# (row key, tick label, value real data scores or None); shares on the left, ratios on the right.
SHARES = (
    ("face_rate", "face rate", None),
    ("two_sample_accuracy", "two-sample\naccuracy", 0.5),
    ("mahalanobis_tail", "Mahalanobis\ntail", 0.01),
    ("precision", "precision", None),
    ("recall", "recall", None),
    ("coverage", "coverage", None),
)
RATIOS = (
    ("density", "density", 1.0),
    ("reencoding_drift", "re-encoding\ndrift", 1.0),
    ("copy_distance", "copy\ndistance", 1.0),
    ("spread", "spread", 1.0),
)


def verdict_chart(
    rows: Sequence[Mapping[str, Any]], ceiling: float | None, floor: float | None
) -> Figure:
    """Grouped bars of every metric; ``rows`` best first (duplicates already left out)."""
    from matplotlib import colormaps

    fig = Figure(figsize=(10, 3.9), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[2, 1])
    colours = [colormaps["tab10"](i % 10) for i in range(len(rows))]
    refs = {"face_rate": ceiling}
    _bars(left, rows, SHARES, colours, refs, floor)
    left.set_ylabel("share (0 to 1)")
    left.set_ylim(0, 1.05)
    _bars(right, rows, RATIOS, colours, {}, None)
    right.set_ylabel("ratio to held-out real points (log)")
    right.set_yscale("log")
    for ax in (left, right):
        ax.set_xlabel("metric")
    handles = [
        Line2D([], [], color=c, lw=6, label=str(r["generator"]))
        for c, r in zip(colours, rows, strict=True)
    ]
    handles += [
        Line2D([], [], color="black", ls="--", label="real data (ceiling)"),
        Line2D([], [], color="grey", ls=":", label="noise images (floor)"),
    ]
    fig.legend(handles=handles, loc="outside right upper", fontsize=8)
    return fig


def _bars(ax, rows, metrics, colours, refs, floor) -> None:
    width = 0.8 / max(1, len(rows))
    x = np.arange(len(metrics))
    for i, (row, colour) in enumerate(zip(rows, colours, strict=True)):
        y = [np.nan if row.get(k) is None else float(row[k]) for k, _, _ in metrics]
        # A zero bar on a log axis has no height: floor it at a visible minimum.
        if ax.get_yscale() == "log" or metrics is RATIOS:
            y = [max(v, 1e-3) if np.isfinite(v) else v for v in y]
        ax.bar(x + (i - (len(rows) - 1) / 2) * width, y, width, color=colour)
    for j, (key, _, real) in enumerate(metrics):
        level = refs.get(key, real)
        if level is not None:
            ax.hlines(level, j - 0.45, j + 0.45, colors="black", linestyles="--", lw=1.2)
        if key == "face_rate" and floor is not None:
            ax.hlines(floor, j - 0.45, j + 0.45, colors="grey", linestyles=":", lw=1.5)
    ax.set_xticks(x, [label for _, label, _ in metrics], fontsize=8)
