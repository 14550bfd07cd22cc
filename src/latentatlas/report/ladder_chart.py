"""The degradation ladder as a chart: one panel per metric, its value against the temperature of
mvn's samples (error bars: 95 % intervals), with mvn's diagonal-only and shifted versions
marked; each panel's title says whether the metric passed the ladder."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure

from latentatlas.generators.ladder import DIAGONAL, LADDER_TEMPERATURES, SHIFTED, rung_name
from latentatlas.metrics.catalogue import BY_KEY, METRICS

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
