"""The atlas figures: one function per figure, each returning a ``matplotlib.figure.Figure``.

Functions take plain arrays and numbers (not analysis result objects) so they can be reused and
tested on their own. Figures are created with ``matplotlib.figure.Figure`` rather than pyplot:
no global figure registry, no GUI backend, nothing to leak across a long run.

Colours follow the study: real points blue, the origin yellow, artificial points red.
Histograms are drawn as one filled polygon (``histtype="stepfilled"``) rather than one patch per
bar: the same picture, rendered several times faster (rendering dominates small reports).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy import stats as sps

REAL = "tab:blue"
FAKE = "tab:red"
ORIGIN = "gold"


def _fig(w: float, h: float, ncols: int = 1, nrows: int = 1) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(w, h), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def _origin(ax: Axes) -> None:
    # Black edge so the yellow marker stays visible on white and on dense blue clouds alike.
    ax.scatter(
        [0],
        [0],
        s=90,
        c=ORIGIN,
        edgecolors="black",
        linewidths=1.2,
        zorder=10,
        label="origin",
        marker="o",
    )


def component_histograms(
    columns: Mapping[int, np.ndarray],
    means: np.ndarray,
    stds: np.ndarray,
    tags: Mapping[int, str],
    bins: int = 60,
) -> Figure:
    """Histograms of single components with the normal of the same mean/std overlaid.

    columns: component index -> (n,) values; means, stds: (N,) per-component moments;
    tags: component index -> short label ("chosen", "extreme").
    """
    idx = list(columns)
    ncols = min(4, max(1, len(idx)))
    nrows = (len(idx) + ncols - 1) // ncols
    fig, axes = _fig(3.0 * ncols, 2.4 * nrows, ncols, nrows)
    for ax in axes.ravel()[len(idx) :]:
        ax.set_visible(False)
    for ax, j in zip(axes.ravel(), idx, strict=False):
        x = np.asarray(columns[j], dtype=np.float64)
        ax.hist(x, bins=bins, density=True, color=REAL, alpha=0.6, histtype="stepfilled")
        mu, sd = float(means[j]), float(stds[j])
        if sd > 0:
            grid = np.linspace(x.min(), x.max(), 200)
            ax.plot(grid, sps.norm.pdf(grid, mu, sd), color="black", lw=1.2)
        ax.set_title(f"z[{j}] ({tags.get(j, '')})", fontsize=9)
        ax.set_xlabel(f"value of z[{j}]", fontsize=8)
        ax.set_ylabel("density", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle("component histograms, normal fit in black", fontsize=10)
    return fig


def normality_summary(
    shapiro_p: np.ndarray, alpha: float, skewness: np.ndarray, kurtosis: np.ndarray
) -> Figure:
    """Per-component Shapiro–Wilk p-values (sorted, log scale) and skewness vs excess kurtosis."""
    fig, axes = _fig(10, 3.8, 2)
    ax = axes[0, 0]
    p = np.sort(np.clip(np.asarray(shapiro_p, dtype=np.float64), 1e-300, 1.0))
    ax.semilogy(np.arange(p.size), p, ".", color=REAL, ms=3)
    ax.axhline(alpha, color=FAKE, ls="--", lw=1, label=f"alpha = {alpha:g}")
    ax.set_xlabel("components, sorted by p-value")
    ax.set_ylabel("Shapiro–Wilk p-value")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ax.scatter(skewness, kurtosis, s=8, color=REAL, alpha=0.7)
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel("skewness")
    ax.set_ylabel("excess kurtosis")
    ax.set_title("normal = (0, 0)", fontsize=9)
    return fig


def correlation_figure(corr: np.ndarray, abs_r: np.ndarray) -> Figure:
    """Pearson correlation heatmap (N, N) and the histogram of the off-diagonal |r|."""
    fig, axes = _fig(11, 4.6, 2)
    ax = axes[0, 0]
    im = ax.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    fig.colorbar(im, ax=ax, shrink=0.85, label="r")
    ax.set_xlabel("component")
    ax.set_ylabel("component")
    ax = axes[0, 1]
    if np.size(abs_r):
        ax.hist(abs_r, bins=60, color=REAL, alpha=0.7, histtype="stepfilled")
    ax.set_xlabel("|r| over component pairs")
    ax.set_ylabel("pairs")
    ax.set_xlim(0, 1)
    return fig


def pca_figure(eigenvalues: np.ndarray, explained_ratio: np.ndarray) -> Figure:
    """PCA eigenvalue spectrum (log scale) and cumulative explained variance with 50/90/99 %."""
    fig, axes = _fig(10, 3.8, 2)
    k = np.arange(1, len(eigenvalues) + 1)
    ax = axes[0, 0]
    ev = np.clip(np.asarray(eigenvalues, dtype=np.float64), 1e-300, None)
    ax.semilogy(k, ev, ".-", color=REAL, ms=3, lw=0.8)
    ax.set_xlabel("principal axis")
    ax.set_ylabel("eigenvalue (variance)")
    ax = axes[0, 1]
    cum = np.cumsum(explained_ratio)
    ax.plot(k, cum, color=REAL)
    for level, ls in ((0.5, ":"), (0.9, "--"), (0.99, "-.")):
        ax.axhline(level, color="grey", ls=ls, lw=0.8)
        ax.axvline(int(np.searchsorted(cum, level - 1e-12)) + 1, color="grey", ls=ls, lw=0.8)
    ax.set_xlabel("number of principal axes")
    ax.set_ylabel("cumulative explained variance")
    ax.set_ylim(0, 1.02)
    return fig


def origin_figure(real_d: np.ndarray, origin_d: float, dim: int) -> Figure:
    """Mahalanobis distances of the real points, the origin's marked, chi(N) for reference."""
    fig, axes = _fig(8, 3.8)
    ax = axes[0, 0]
    real_d = np.asarray(real_d, dtype=np.float64)
    hi = max(float(np.max(real_d)), float(origin_d)) * 1.05
    lo = max(float(np.min(real_d)), 1e-3) * 0.9
    # An origin far outside the bulk would squash the histogram into one bar: log x then.
    far = origin_d > 2.5 * float(np.quantile(real_d, 0.99))
    bins = np.geomspace(lo, hi, 100) if far else np.linspace(0, hi, 80)
    ax.hist(
        real_d,
        bins=bins,
        density=True,
        color=REAL,
        alpha=0.6,
        label="real points",
        histtype="stepfilled",
    )
    grid = np.geomspace(lo, hi, 400) if far else np.linspace(0, hi, 400)
    ax.plot(grid, sps.chi.pdf(grid, dim), color="black", lw=1, label=f"chi({dim}) (normal)")
    ax.axvline(origin_d, color=ORIGIN, lw=3, label=f"origin: {origin_d:.3g}")
    ax.axvline(origin_d, color="black", lw=0.8)
    if far:
        from matplotlib.ticker import LogLocator

        ax.set_xscale("log")
        # 1-2-5 ticks: the distances often span less than two decades, one tick per decade
        # would leave a single label.
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        _plain_log_ticks(ax.xaxis)
    ax.set_xlabel("Mahalanobis distance from the centroid" + (" (log scale)" if far else ""))
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    return fig


def radii_figure(
    real_radii: np.ndarray,
    cube_radii: Mapping[float, np.ndarray],
    b_used: float,
    b_fitted: float,
) -> Figure:
    """‖z‖ of the real points against the radii of uniform cubes [-b, b]^N for several b.

    The cube of ``b_used`` is drawn thick; ``b_fitted`` is labelled (they differ when b is given).
    """
    fig, axes = _fig(9, 4)
    ax = axes[0, 0]
    all_r = [np.asarray(real_radii)] + [np.asarray(r) for r in cube_radii.values()]
    lo = min(float(r.min()) for r in all_r)
    hi = max(float(r.max()) for r in all_r)
    bins = np.linspace(lo, hi, 120)
    _real_radius_hist(ax, real_radii, bins)
    cmap = _reds(len(cube_radii))
    for c, (b, r) in zip(cmap, sorted(cube_radii.items()), strict=True):
        tags = [t for t, v in (("fitted", b_fitted), ("used", b_used)) if np.isclose(b, v)]
        ax.hist(
            r,
            bins=bins,
            density=True,
            histtype="step",
            color=c,
            lw=2.2 if np.isclose(b, b_used) else 1.0,
            label=f"cube b = {b:.3g}" + (f" ({', '.join(tags)})" if tags else ""),
        )
    ax.set_xlabel("radius ‖z‖")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    return fig


def _real_radius_hist(ax: Axes, real_radii: np.ndarray, bins: np.ndarray) -> None:
    ax.hist(
        real_radii,
        bins=bins,
        density=True,
        color=REAL,
        alpha=0.5,
        label="real ‖z‖",
        histtype="stepfilled",
    )


def union_figure(
    real_radii: np.ndarray,
    union_radii: np.ndarray,
    intervals: Sequence[tuple[float, float, float]],
    missed: float,
) -> Figure:
    """Real radii against a union of growing cubes: each cube's shell (1–99 % radius interval)."""
    fig, axes = _fig(9, 4)
    ax = axes[0, 0]
    lo = min(float(np.min(real_radii)), float(np.min(union_radii)))
    hi = max(float(np.max(real_radii)), float(np.max(union_radii)))
    bins = np.linspace(lo, hi, 140)
    _real_radius_hist(ax, real_radii, bins)
    ax.hist(
        union_radii,
        bins=bins,
        density=True,
        histtype="step",
        color=FAKE,
        lw=1.2,
        label="union of cubes",
    )
    for b, r_lo, r_hi in intervals:
        ax.axvspan(r_lo, r_hi, color=FAKE, alpha=0.12)
        ax.text(
            (r_lo + r_hi) / 2,
            1.0,
            f"{b:.3g}",
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=7,
            color=FAKE,
        )
    ax.set_xlabel("radius ‖z‖ (shaded: 1–99 % shell of each cube, labelled by b)")
    ax.set_ylabel("density")
    ax.set_title(f"real radii in no shell: {missed:.1%}", fontsize=9, pad=14)
    ax.legend(fontsize=8)
    return fig


def shell_figure(normalised: Mapping[int, np.ndarray]) -> Figure:
    """Radius distributions of uniform cubes, R / (b·sqrt(N/3)), narrowing as N grows."""
    fig, axes = _fig(8, 4)
    ax = axes[0, 0]
    colors = _reds(len(normalised))
    bins = np.linspace(0, 2.0, 201)
    for c, (dim, r) in zip(colors, sorted(normalised.items()), strict=True):
        h, edges = np.histogram(np.clip(r, 0, 2.0), bins=bins, density=True)
        ax.plot((edges[1:] + edges[:-1]) / 2, h, color=c, lw=1.2, label=f"N = {dim}")
    ax.set_xlabel("R / (b·sqrt(N/3))")
    ax.set_ylabel("density")
    ax.set_yscale("log")
    ax.set_ylim(bottom=1e-2)
    ax.legend(fontsize=8)
    return fig


def component_ranges_figure(
    means: np.ndarray, stds: np.ndarray, minimum: np.ndarray, maximum: np.ndarray, b: float
) -> Figure:
    """Per component (sorted by mean): min–max, mean ± 2σ, and the cube's [-b, b] band."""
    fig, axes = _fig(11, 3.8)
    ax = axes[0, 0]
    order = np.argsort(means)
    x = np.arange(len(order))
    ax.axhspan(-b, b, color=FAKE, alpha=0.15, label=f"cube [-b, b], b = {b:.3g}")
    ax.vlines(x, minimum[order], maximum[order], color="lightgrey", lw=1, label="min–max")
    ax.vlines(
        x,
        means[order] - 2 * stds[order],
        means[order] + 2 * stds[order],
        color=REAL,
        lw=2 if len(x) <= 128 else 1,
        label="mean ± 2σ",
    )
    ax.plot(x, means[order], ".", color="navy", ms=2)
    ax.axhline(0, color=ORIGIN, lw=2)
    ax.set_xlabel("components, sorted by mean")
    ax.set_ylabel("value")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def projection_figure(
    real_xy: np.ndarray,
    fake_xy: np.ndarray,
    pair: tuple[int, int],
    ellipses: Mapping[float, np.ndarray],
    zoom: float,
) -> Figure:
    """Real (blue) and artificial (red) points on the plane of two components; full view and zoom.

    real_xy, fake_xy: (m, 2); ellipses: n_sigma -> (k, 2) polygon; zoom: half-width of the window
    around the origin in the right panel.
    """
    fig, axes = _fig(11, 5, 2)
    j1, j2 = pair
    for ax, zoomed in zip(axes[0], (False, True), strict=True):
        size = 4 if zoomed else 2
        # A few hundred real points need bigger, opaquer dots to read as a cloud at all.
        sparse = len(real_xy) < 3000
        # Real points first, artificial ones over them (translucent): the cube's square stays
        # visible as a whole, as in the study's figures, with the real cloud showing through.
        ax.scatter(
            real_xy[:, 0],
            real_xy[:, 1],
            s=3 * size if sparse else size,
            c=REAL,
            alpha=0.8 if sparse else 0.35,
            lw=0,
            rasterized=True,
        )
        ax.scatter(fake_xy[:, 0], fake_xy[:, 1], s=size, c=FAKE, alpha=0.6, lw=0, rasterized=True)
        for (_, poly), ls in zip(sorted(ellipses.items()), ("--", ":", "-."), strict=False):
            ax.plot(poly[:, 0], poly[:, 1], color="navy", ls=ls, lw=1.2)
        _origin(ax)
        ax.set_xlabel(f"z[{j1}]")
        ax.set_ylabel(f"z[{j2}]")
        if zoomed:
            ax.set_xlim(-zoom, zoom)
            ax.set_ylim(-zoom, zoom)
            ax.set_aspect("equal", adjustable="box")
            ax.set_title(f"zoom on the origin (±{zoom:.3g})", fontsize=9)
        else:
            ax.set_aspect("equal", adjustable="datalim")
            ax.set_title("full view", fontsize=9)
            ax.legend(
                handles=_legend_handles(sorted(ellipses)),
                fontsize=7,
                loc="upper left",
                framealpha=0.85,
            )
    return fig


def slice_figure(
    real_xy: np.ndarray, fake_xy: np.ndarray, pair: tuple[int, int], b: float, count: int, n: int
) -> Figure:
    """The slice of a pair: points whose other N-2 components all lie in [-b, b]."""
    fig, axes = _fig(6, 5.4)
    ax = axes[0, 0]
    j1, j2 = pair
    ax.scatter(fake_xy[:, 0], fake_xy[:, 1], s=3, c=FAKE, alpha=0.3, lw=0, rasterized=True)
    if len(real_xy):
        ax.scatter(
            real_xy[:, 0],
            real_xy[:, 1],
            s=14,
            c=REAL,
            alpha=0.9,
            lw=0.3,
            edgecolors="white",
            zorder=5,
        )
    ax.plot([-b, b, b, -b, -b], [-b, -b, b, b, -b], color="grey", ls="--", lw=0.8)
    _origin(ax)
    ax.set_xlabel(f"z[{j1}]")
    ax.set_ylabel(f"z[{j2}]")
    ax.legend(
        handles=_legend_handles([], f"real in the slice: {count} of {n}"),
        fontsize=8,
        loc="upper right",
        framealpha=0.85,
    )
    ax.set_aspect("equal", adjustable="datalim")
    return fig


def slice_scan_figure(counts: np.ndarray, n: int) -> Figure:
    """Histogram of the real-point counts of the slices of all scanned pairs."""
    fig, axes = _fig(8, 3.8)
    ax = axes[0, 0]
    counts = np.asarray(counts)
    lo = int(counts.min()) if counts.size else 0
    hi = int(counts.max()) if counts.size else 0
    label = f"real points in the slice (of {n})"
    if hi - lo <= 60:
        # Few distinct values: one bar per count.
        ax.hist(
            counts,
            bins=np.arange(lo - 0.5, hi + 1.5, 1.0),
            color=REAL,
            alpha=0.7,
            histtype="stepfilled",
        )
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    elif lo > 0 and hi / lo < 30:
        ax.hist(counts, bins=np.linspace(lo, hi, 60), color=REAL, alpha=0.7, histtype="stepfilled")
    else:
        # Counts over orders of magnitude (typical: many empty slices, a few full ones).
        bins = np.concatenate([[-0.5, 0.5], np.geomspace(0.5, hi + 1, 50)[1:]])
        ax.hist(counts, bins=bins, color=REAL, alpha=0.7, histtype="stepfilled")
        ax.set_xscale("symlog", linthresh=1)
        label += ", symlog scale"
    ax.set_xlabel(label)
    ax.set_ylabel("pairs (log scale)")
    ax.set_yscale("log")
    _plain_log_ticks(ax.yaxis)
    return fig


def voids_figure(rows: Mapping[str, Mapping[str, float]]) -> Figure:
    """Grouped bars: precision/recall/density/coverage and void shares, one group per comparison."""
    keys = ["precision", "recall", "density", "coverage", "mahalanobis_tail", "out_of_range"]
    fig, axes = _fig(10, 3.8)
    ax = axes[0, 0]
    width = 0.8 / max(1, len(rows))
    x = np.arange(len(keys))
    colors = [FAKE, REAL, "tab:green", "tab:purple"]
    for i, (label, vals) in enumerate(rows.items()):
        y = [float(vals.get(k, np.nan)) for k in keys]
        bars = ax.bar(
            x + (i - (len(rows) - 1) / 2) * width,
            y,
            width,
            label=label,
            color=colors[i % len(colors)],
            alpha=0.8,
        )
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(x, [k.replace("_", "\n") for k in keys], fontsize=8)
    ax.set_xlabel("metric")
    ax.set_ylabel("value (share, or density relative to real points)")
    ax.legend(fontsize=8)
    return fig


def fragmentation_figure(
    summary: Mapping[str, Any], face_rates: Sequence[float] | None = None
) -> Figure:
    """Four panels of a fragmentation summary (``analysis.fragmentation(...).to_dict()``): BIC
    and held-out log-likelihood against mixture components; the persistence diagram (H0, H1)
    with the long-lived threshold; the share of midpoints outside the data, real points against
    within- and between-cluster pairs; the share of segment points inside against t (t = 0 and 1
    are the real endpoints, dotted: their mean), with the decoded face rate when given."""
    mix, topo, mid, b = (summary[k] for k in ("mixture", "topology", "midpoints", "betweenness"))
    fig, axes = _fig(18, 3.9, 4)
    ax = axes[0, 0]
    ax.plot(mix["components"], mix["bic"], "o-", color=REAL, ms=4, label="BIC (left)")
    i = mix["components"].index(mix["best"])
    ax.plot([mix["best"]], [mix["bic"][i]], "o", ms=11, mfc="none", mec=FAKE, mew=1.5)
    ax.set_xlabel("Gaussian mixture components")
    ax.set_ylabel("BIC (lower is better)")
    twin = ax.twinx()
    twin.plot(mix["components"], mix["heldout_loglik"], "s--", color="grey", ms=3)
    twin.set_ylabel("held-out log-likelihood per point (grey)")
    twin.set_xlabel(ax.get_xlabel())  # shared with the BIC axis, drawn once
    ax.set_title(f"BIC lowest at {mix['best']} (circle)", fontsize=9)
    ax = axes[0, 1]
    h0 = np.asarray(topo["h0"], dtype=float)
    h1 = np.asarray(topo["h1"], dtype=float).reshape(-1, 2)
    top = max([*h0, *h1.ravel(), topo["threshold"]]) * 1.05
    ax.plot([0, top], [0, top], color="black", lw=0.8)
    ax.plot(
        [0, top],
        [topo["threshold"], top + topo["threshold"]],
        ":",
        color=FAKE,
        lw=1,
        label="long-lived above",
    )
    ax.plot(np.zeros(len(h0)), h0, "o", color=REAL, ms=4, alpha=0.6, label="H0 (components)")
    if len(h1):
        ax.plot(h1[:, 0], h1[:, 1], "^", color="tab:green", ms=4, label="H1 (loops)")
    ax.set_xlim(-0.02 * top, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("birth (distance)")
    ax.set_ylabel("death (distance)")
    ax.set_title(
        f"{topo['components']} long-lived component(s), {topo['loops']} loop(s)", fontsize=9
    )
    ax.legend(fontsize=8, loc="lower right")
    ax = axes[0, 2]
    groups = [("HDBSCAN clusters", mid), ("mixture components", mid["mixture"])]
    x = np.arange(len(groups))
    for j, (key, color, label) in enumerate(
        [
            ("real_outside", "grey", "real points"),
            ("within_outside", REAL, "midpoints within a cluster"),
            ("between_outside", FAKE, "midpoints between clusters"),
        ]
    ):
        values = [g[key] if g[key] is not None else np.nan for _, g in groups]
        ax.bar(x + (j - 1) * 0.27, np.nan_to_num(values), 0.25, color=color, label=label)
    ax.set_xticks(x, [name for name, _ in groups])
    ax.set_xlabel("clusters the pairs are drawn from")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share beyond the real 95th-pct. NN distance")
    ax.legend(fontsize=8, loc="upper left")
    ax = axes[0, 3]
    curves = [
        (b["knn_inside"], REAL, "o-", "k-NN precision"),
        (b["mahalanobis_inside"], "grey", "s--", "within the Mahalanobis tail"),
    ]
    if face_rates is not None:
        curves.append((face_rates, "tab:green", "^-", "decoded: face rate"))
    for ys, color, style, label in curves:
        ax.plot(b["t"], ys, style, color=color, ms=4, label=label)
        ax.axhline(0.5 * (ys[0] + ys[-1]), color=color, ls=":", lw=1)
    ax.set_xlabel("position t between two random real points")
    ax.set_ylabel("share of segment points inside")
    ax.set_ylim(0, 1.05)
    ax.set_title("dotted: the real endpoints' mean (t = 0, 1)", fontsize=9)
    ax.legend(fontsize=8, loc="lower center")
    return fig


def _reds(k: int) -> list[tuple[float, float, float, float]]:
    from matplotlib import colormaps

    cmap = colormaps["autumn_r"] if k <= 1 else colormaps["plasma"]
    return [cmap(v) for v in np.linspace(0.1, 0.85, max(k, 1))][:k]


def _legend_handles(n_sigmas: Sequence[float], real_label: str = "real") -> list[Line2D]:
    # Proxy artists: scatter handles would inherit the tiny point sizes (or a huge origin).
    dot = {"ls": "none", "marker": "o", "markersize": 5}
    handles = [
        Line2D([], [], color=REAL, label=real_label, **dot),
        Line2D([], [], color=FAKE, label="artificial", **dot),
        Line2D([], [], color=ORIGIN, markeredgecolor="black", label="origin", **dot),
    ]
    for ns, ls in zip(n_sigmas, ("--", ":", "-."), strict=False):
        handles.append(Line2D([], [], color="navy", ls=ls, label=f"{ns:g}σ ellipse"))
    return handles


def _plain_log_ticks(axis) -> None:
    # "30" rather than "3×10^1" on log axes, and no clutter of labelled minor ticks.
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())
