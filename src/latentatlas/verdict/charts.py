"""The verdict's charts: the bars of every generator, and the degradation ladder.

``verdict_chart``: one bar group per metric, one bar per generator, reference lines. Reference
lines mark what real data scores where that is known: the detector's rate on decoded held-out
reconstructions (the face-rate ceiling) and on noise (its floor), 0.5 for the two-sample
accuracy, 0.01 for the Mahalanobis tail (the 99th percentile by construction) and 1 for the
ratios to held-out real points (density, re-encoding drift, copy distance, spread).

``ladder_chart``: one panel per metric, its value against the temperature of mvn's samples
(error bars: 95 % intervals), with mvn's diagonal-only and shifted versions marked; each
panel's title says whether the metric passed the ladder.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from latentatlas.verdict.catalogue import BY_KEY, METRICS
from latentatlas.verdict.ladder import DIAGONAL, LADDER_TEMPERATURES, SHIFTED, rung_name

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
    rows: Sequence[Mapping[str, Any]],
    ceiling: float | None,
    floor: float | None,
    faces: bool = True,
) -> Figure:
    """Grouped bars of every metric; ``rows`` best first (duplicates already left out); the face
    rate only where it applies (``faces``)."""
    from matplotlib import colormaps

    fig = Figure(figsize=(10, 3.9), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[2, 1])
    colours = [colormaps["tab10"](i % 10) for i in range(len(rows))]
    refs = {"face_rate": ceiling}
    shares = SHARES if faces else tuple(m for m in SHARES if m[0] != "face_rate")
    _bars(left, rows, shares, colours, refs, floor)
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
    handles.append(Line2D([], [], color="black", ls="--", label="real data (ceiling)"))
    if faces:
        handles.append(Line2D([], [], color="grey", ls=":", label="noise images (floor)"))
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


# What the chart shows: every ranking metric, then the reported image numbers and the face rate,
# whose failures explain why they do not rank.
CHART_KEYS: tuple[str, ...] = (
    *(m.key for m in METRICS if m.ranking),
    "image.cnn.two_sample_accuracy",
    "image.faces.fd",
    "face_rate",
)


def ladder_chart(
    rows: Sequence[Mapping[str, Any]], checks: Mapping[str, Mapping[str, Any]], keys: Sequence[str]
) -> Figure:
    """Panels for the metrics ``keys`` (in that order) of the ladder ``rows``."""
    by_name = {r["generator"]: r for r in rows}
    cols = 3
    n_rows = max(1, math.ceil(len(keys) / cols))
    fig = Figure(figsize=(10, 2.6 * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, cols, squeeze=False).ravel()
    for ax, key in zip(axes, keys, strict=False):
        m = BY_KEY[key]
        ts, ys, lo, hi = [], [], [], []
        for t in LADDER_TEMPERATURES:
            row = by_name.get(rung_name(t))
            v = m.value(row) if row else None
            if v is None:
                continue
            ci = m.interval(row) or (v, v)
            ts.append(t)
            ys.append(v)
            # An accuracy is the mean over folds, its interval from the pooled hits: the two can
            # differ in the last digits, so an end may sit a hair on the wrong side.
            lo.append(max(0.0, v - ci[0]))
            hi.append(max(0.0, ci[1] - v))
        ax.errorbar(ts, ys, yerr=[lo, hi], marker="o", color="tab:blue", capsize=3, label="mvn@τ")
        for name, marker, colour in ((DIAGONAL, "s", "tab:orange"), (SHIFTED, "^", "tab:red")):
            row = by_name.get(name)
            v = m.value(row) if row else None
            if v is not None:
                ci = m.interval(row) or (v, v)
                ax.errorbar(
                    [1.0],
                    [v],
                    yerr=[[v - ci[0]], [ci[1] - v]],
                    marker=marker,
                    color=colour,
                    capsize=3,
                    ls="none",
                    label=name,
                )
        passed = checks.get(key, {}).get("passed")
        verdict = "passes" if passed else "fails"
        ax.set_title(f"{m.label}: {verdict}", fontsize=9, color="black" if passed else "tab:red")
        ax.set_xlabel("temperature τ of mvn")
        ax.set_ylabel(m.label.split(": ")[-1], fontsize=8)
        ax.tick_params(labelsize=8)
    for ax in axes[len(keys) :]:
        ax.set_visible(False)
    if keys:
        axes[0].legend(fontsize=7)
    return fig
