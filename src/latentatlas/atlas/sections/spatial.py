"""The spatial-latents section: a C x H x W latent (a diffusion VAE's) as C channels over H x W
positions, and whether N(0, I) at the model's configured scaling_factor matches it.

Runs its analyses only when the store's ``store.json`` records ``latent_shape: [C, H, W]``;
otherwise it says so in one line. Its figures are drawn here (numpy arrays in, a Figure out).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from scipy import stats as sps

from latentatlas.atlas.context import AtlasContext

if TYPE_CHECKING:
    from latentatlas.core.html import Page

REAL = "tab:blue"
# The panels a figure draws at most (channel histograms, maps); the table lists every channel.
MAX_PANELS = 16


def section_spatial(ctx: AtlasContext, page: Page) -> None:
    from latentatlas.analysis.spatial import spatial_shape, spatial_stats

    meta = ctx.store.meta if ctx.store is not None else {}
    shape = spatial_shape(meta, ctx.dim)
    sec = page.section(
        "spatial",
        "Spatial latents: channels over positions",
        "A latent of shape C x H x W (a diffusion model's VAE) read as what it is: C channels over "
        "H x W positions. Per-channel moments and histograms, the scale and shift that make the "
        "latents zero-mean and unit-variance beside the model's configured scaling_factor and "
        "shift_factor, per-position mean and std maps, how far apart positions still correlate, "
        "the cross-channel correlation, and how far N(0, I) at that scale is from the latents.",
    )
    if shape is None:
        ctx.summary["spatial"] = None
        page.note(sec, "The store records no spatial latent shape (C x H x W): nothing to show.")
        return
    st = spatial_stats(ctx.z, shape, meta, random_state=ctx.seed, driver=ctx.driver)
    ctx.summary["spatial"] = st.to_dict()
    c, h, w = shape
    sc, gap = st.scaling, st.gaussian_gap
    page.lead(sec, st.verdict)
    rows = [
        ("latent shape C x H x W (z in C-major order)", f"{c} x {h} x {w}"),
        ("configured scaling_factor", _or_none(sc["configured_scaling_factor"])),
        ("configured shift_factor", _or_none(sc["configured_shift_factor"])),
        (
            "mean / std of all latents as stored",
            (sc["mean_at_configured"], sc["std_at_configured"]),
        ),
        ("scaling_factor for unit std", sc["scaling_factor_for_unit_std"]),
        ("shift_factor for zero mean", sc["shift_factor_for_zero_mean"]),
        (
            "scaling_factor for unit RMS without a shift",
            sc["scaling_factor_for_unit_rms_without_shift"],
        ),
        ("largest |cross-channel correlation|", st.max_cross_channel),
    ]
    page.key_values(sec, rows, "Scale and shift")
    gap_rows = [
        (
            "per-channel KL(N(mean, std²) ‖ N(0, 1)): mean / max",
            (float(np.mean(gap["per_channel_kl"])), float(np.max(gap["per_channel_kl"]))),
        ),
        (
            "Fréchet distance to N(0, I) per dimension (per-position Gaussian)",
            gap["diagonal_frechet_per_dim"],
        ),
        ("share of radii inside N(0, I)'s 99 % shell", gap["radius_share_in_normal_shell"]),
        ("median radius / sqrt(N)", gap["median_radius_over_sqrt_n"]),
    ]
    if "mmd_vs_normal" in gap:
        m = gap["mmd_vs_normal"]
        gap_rows.append(
            (
                f"MMD² against as many N(0, I) draws ({m['n_real']} each), permutation p",
                (m["mmd2"], m["p_value"]),
            )
        )
    page.key_values(sec, gap_rows, "How far N(0, I) at this scale is from the latents")
    page.table(
        sec,
        [
            "channel",
            "mean",
            "std",
            "skewness",
            "excess kurtosis",
            "lag-1 correlation",
            "correlation length (1/e)",
            "scaling_factor for unit std",
            "shift_factor for zero mean",
        ],
        [
            [
                k,
                st.channel_mean[k],
                st.channel_std[k],
                st.channel_skewness[k],
                st.channel_kurtosis[k],
                st.lag1[k],
                _or_none(st.corr_length_e[k]),
                sc["per_channel_scaling_factor"][k],
                sc["per_channel_shift_factor"][k],
            ]
            for k in range(c)
        ],
        "Per channel (over all samples and positions)",
    )
    worst = int(np.argmax(np.abs(st.channel_kurtosis)))
    page.figure(
        sec,
        "spatial_channel_hist",
        channel_histograms(st.hist_edges, st.hist_counts, st.channel_mean, st.channel_std),
        "Each channel's values over all samples and positions, the normal with its mean and std "
        "in black, N(0, 1) dashed.",
        f"Channel {worst} is the least normal: skewness {st.channel_skewness[worst]:.3g}, "
        f"excess kurtosis {st.channel_kurtosis[worst]:.3g}.",
    )
    page.figure(
        sec,
        "spatial_maps",
        position_maps(st.mean_map, st.std_map),
        "Mean (upper maps) and standard deviation (lower maps) of each channel at every "
        "position.",
        f"Position means range {st.mean_map.min():.3g} to {st.mean_map.max():.3g}, stds "
        f"{st.std_map.min():.3g} to {st.std_map.max():.3g}.",
    )
    lengths = [v for v in st.corr_length_e if v is not None]
    page.figure(
        sec,
        "spatial_autocorrelation",
        autocorrelation_figure(st.acf_distance, st.acf),
        "Spatial autocorrelation of each channel against distance in positions (lags binned by "
        f"rounded distance: 1 holds the diagonal neighbours too), averaged over "
        f"{st.acf_sample:,} latents; dotted: 1/e and 0.5.",
        (
            f"Correlation drops below 1/e after {min(lengths):.2g} to {max(lengths):.2g} "
            f"positions; "
            f"lag-1 correlation {np.min(st.lag1):.3g} to {np.max(st.lag1):.3g}."
            if lengths
            else f"Correlation stays above 1/e up to {int(st.acf_distance[-1])} positions."
        ),
    )
    if c > 1:
        page.figure(
            sec,
            "spatial_channel_corr",
            channel_correlation_figure(st.channel_corr),
            "Correlation between channels, over all samples and positions.",
            f"Largest |off-diagonal| correlation {st.max_cross_channel:.3g}.",
        )


def _or_none(value: float | None) -> float | str:
    return "none" if value is None else value


def _grid(panels: int, width: float, height: float, blocks: int = 1) -> tuple[Figure, np.ndarray]:
    """Up to 8 panels a row; ``blocks`` copies of the rows one below the other."""
    ncols = min(panels, 8)
    nrows = math.ceil(panels / ncols) * blocks
    # Spacing set by hand: a constrained layout doubles the time to draw a grid of 16 x 2 maps.
    size = (width * ncols + 1.0, height * nrows + 0.3)
    fig = Figure(figsize=size)
    # Margins in inches (the right one holds a colour bar's labels), as fractions of the figure.
    fig.subplots_adjust(
        left=0.3 / size[0],
        right=1 - 0.7 / size[0],
        bottom=0.2 / size[1],
        top=1 - 0.3 / size[1],
        wspace=0.35,
        hspace=0.5,
    )
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def channel_histograms(
    edges: np.ndarray, counts: np.ndarray, mean: np.ndarray, std: np.ndarray
) -> Figure:
    """Per-channel histograms (edges (C, B+1), counts (C, B)) with the normal fit and N(0, 1)."""
    c = min(len(counts), MAX_PANELS)
    fig, axes = _grid(c, 2.4, 2.0)
    for ax in axes.ravel()[c:]:
        ax.set_visible(False)
    for k, ax in enumerate(axes.ravel()[:c]):
        e = edges[k]
        dens = counts[k] / max(counts[k].sum() * (e[1] - e[0]), np.finfo(float).tiny)
        ax.stairs(dens, e, fill=True, color=REAL, alpha=0.6)
        grid = np.linspace(e[0], e[-1], 200)
        if std[k] > 0:
            ax.plot(grid, sps.norm.pdf(grid, mean[k], std[k]), color="black", lw=1)
        ax.plot(grid, sps.norm.pdf(grid), color="black", lw=1, ls="--")
        ax.set_title(f"channel {k}", fontsize=9)
        ax.tick_params(labelsize=7)
    return fig


def position_maps(mean_map: np.ndarray, std_map: np.ndarray) -> Figure:
    """Mean and std maps, (C, H, W) each: the mean maps above the std maps, one colour scale
    for each."""
    c = min(len(mean_map), MAX_PANELS)
    fig, axes = _grid(c, 1.6, 1.6, blocks=2)
    half = len(axes) // 2
    for maps, block, label in ((mean_map, axes[:half], "mean"), (std_map, axes[half:], "std")):
        lo, hi = float(maps[:c].min()), float(maps[:c].max())
        for k, ax in enumerate(block.ravel()):
            ax.set_xticks([])
            ax.set_yticks([])
            if k >= c:
                ax.set_visible(False)
                continue
            image = ax.imshow(maps[k], vmin=lo, vmax=hi, cmap="viridis")
            ax.set_title(f"{label}, ch {k}", fontsize=8)
        fig.colorbar(image, ax=block.ravel().tolist(), shrink=0.9, fraction=0.03)
    return fig


def autocorrelation_figure(distance: np.ndarray, acf: np.ndarray) -> Figure:
    """Autocorrelation (C, D) against distance (D,), one line per channel."""
    fig = Figure(figsize=(5.5, 3.4), layout="constrained")
    ax = fig.subplots()
    for k, profile in enumerate(acf):
        ax.plot(distance, profile, marker="o", ms=3, lw=1, label=f"channel {k}" if k < 8 else None)
    for level in (1 / math.e, 0.5):
        ax.axhline(level, color="grey", ls=":", lw=1)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xlabel("distance between positions")
    ax.set_ylabel("correlation")
    ax.legend(fontsize=7, ncols=2)
    return fig


def channel_correlation_figure(corr: np.ndarray) -> Figure:
    """The (C, C) cross-channel correlation as a heat map."""
    c = len(corr)
    fig = Figure(figsize=(1.2 + 0.35 * c, 0.8 + 0.35 * c), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(corr, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xlabel("channel")
    ax.set_ylabel("channel")
    fig.colorbar(image, ax=ax, shrink=0.8)
    return fig
