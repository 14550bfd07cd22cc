"""Sections 1-3: the components one by one, their correlations, the shape and position."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from latentatlas.atlas.context import AtlasContext
from latentatlas.atlas.helpers import ORIGIN_PLACE, closer_than_origin

if TYPE_CHECKING:
    from latentatlas.core.html import Page

HEATMAP_COMPONENTS = 512


def section_components(ctx: AtlasContext, page: Page) -> None:
    from latentatlas.analysis import extreme_components, normality
    from latentatlas.analysis.blockstats import take_columns
    from latentatlas.atlas import figures

    st = ctx.stats  # from the first stage's pass over all points
    extreme = [int(j) for j in extreme_components(st, k=min(4, ctx.dim))]
    chosen = []
    for pair in ctx.pairs:
        for j in pair:
            if j not in chosen and len(chosen) < 4:
                chosen.append(j)
    shown = chosen + [j for j in extreme if j not in chosen]
    tags = {j: "chosen" for j in chosen} | {j: "extreme" for j in extreme if j not in chosen}
    norm = normality(ctx.z, sample=ctx.normality_sample, random_state=ctx.seed, model=ctx.model)
    nd = norm.to_dict()

    shapiro = np.asarray(norm.shapiro_p)
    mean, std = np.asarray(st.mean), np.asarray(st.std)
    skew, kurt = np.asarray(st.skewness), np.asarray(st.kurtosis)
    per_component = st.to_dict()
    per_component["quantiles"] = _spread(mean, std, skew, kurt)
    overall = {
        "mean_of_means": float(mean.mean()),
        "max_abs_mean": float(np.abs(mean).max()),
        "min_std": float(std.min()),
        "median_std": float(np.median(std)),
        "max_std": float(std.max()),
        # nan-aware there: a constant component has NaN skewness/kurtosis
        "max_abs_skewness": per_component["max_abs_skewness"],
        "max_abs_excess_kurtosis": per_component["max_abs_kurtosis"],
    }
    shown_rows = [
        {
            "component": j,
            "tag": tags[j],
            "mean": float(mean[j]),
            "std": float(std[j]),
            "skewness": float(skew[j]),
            "excess_kurtosis": float(kurt[j]),
            "min": float(st.minimum[j]),
            "max": float(st.maximum[j]),
            "shapiro_p": float(shapiro[j]),
        }
        for j in shown
    ]
    ctx.summary["components"] = {
        "overall": overall,
        "shown": shown_rows,
        "extreme": extreme,
        "chosen": chosen,
        "normality": nd,
        "per_component": per_component,
    }

    sec = page.section(
        "components",
        "1. Component distributions",
        "Each latent component on its own: moments, histograms against a fitted normal, and "
        "normality tests per component (Shapiro–Wilk) and jointly (Henze–Zirkler, on the core "
        "left after trimming Mahalanobis outliers). "
        + _covariance_note(ctx)
        + (
            f" With N = {ctx.dim:,} components the section summarises them: the spread of the "
            "per-component statistics and the most extreme components drawn."
            if ctx.dim > 64
            else ""
        ),
    )
    page.key_values(
        sec,
        [
            ("mean of the component means", overall["mean_of_means"]),
            ("largest |component mean|", overall["max_abs_mean"]),
            (
                "component std: min / median / max",
                (overall["min_std"], overall["median_std"], overall["max_std"]),
            ),
            ("largest |skewness|", overall["max_abs_skewness"]),
            ("largest |excess kurtosis|", overall["max_abs_excess_kurtosis"]),
        ],
        "All components",
    )
    q = per_component["quantiles"]
    page.table(
        sec,
        ["statistic", "min", "1 %", "median", "99 %", "max"],
        [[name] + list(v) for name, v in q.items()],
        f"Spread of the per-component statistics over the {ctx.dim:,} components",
    )
    values = take_columns(ctx.z, shown)
    cols = {j: values[:, i] for i, j in enumerate(shown)}
    page.figure(
        sec,
        "components_hist",
        figures.component_histograms(cols, mean, std, tags),
        f"Histograms of {len(chosen)} chosen (from the pairs) and {len(shown) - len(chosen)} most "
        "non-normal components, the normal with the same mean and std in black.",
        f"Most non-normal: z[{extreme[0]}] with skewness {skew[extreme[0]]:.3g} and excess "
        f"kurtosis {kurt[extreme[0]]:.3g} (normal: 0 and 0).",
    )
    page.table(
        sec,
        [
            "component",
            "shown as",
            "mean",
            "std",
            "skewness",
            "excess kurtosis",
            "min",
            "max",
            "Shapiro–Wilk p",
        ],
        [list(r.values()) for r in shown_rows],
        "Shown components",
    )
    page.figure(
        sec,
        "normality",
        figures.normality_summary(shapiro, float(nd["alpha"]), skew, kurt),
        "Left: per-component Shapiro–Wilk p-values, sorted (dashed: alpha). "
        "Right: skewness against excess kurtosis per component (a normal sits at 0, 0).",
        f"Normality rejected for {nd['share_rejected']:.1%} of components at alpha "
        f"{nd['alpha']:g}; Henze–Zirkler p = {_p_text(nd['hz_p_value'])}.",
    )
    page.key_values(
        sec,
        [
            ("points used (subsample)", nd["n_used"]),
            ("trimmed as outliers (Mahalanobis radius)", nd["n_trimmed"]),
            ("trim radius", nd["trim_radius"]),
            ("share of components rejected (Shapiro–Wilk)", nd["share_rejected"]),
            ("Henze–Zirkler statistic", nd["hz_statistic"]),
            ("Henze–Zirkler p-value", _p_text(nd["hz_p_value"])),
            ("alpha", nd["alpha"]),
        ],
        "Normality",
    )
    if nd["n_used"] <= ctx.dim:
        page.note(
            sec,
            f"Henze–Zirkler on {nd['n_used']:,} points in N = {ctx.dim:,} dimensions: the "
            "subsample's covariance is singular (n ≤ N), so the test rejects by convention "
            "(statistic 4n, as in the R package MVN); the per-component tests still apply.",
        )


def _p_text(p: float | None) -> str:
    """A p-value for the page; None when the test's moments underflow (N in the thousands)."""
    return "not computable at this N" if p is None else f"{float(p):.3g}"


def _spread(*columns: np.ndarray) -> dict[str, list[float | None]]:
    """Min, 1 %, median, 99 % and max of each per-component statistic (NaN-aware)."""
    names = ("mean", "std", "skewness", "excess kurtosis")
    out = {}
    for name, v in zip(names, columns, strict=True):
        v = np.asarray(v, dtype=np.float64)
        v = v[np.isfinite(v)]
        qs = np.quantile(v, [0.0, 0.01, 0.5, 0.99, 1.0]) if v.size else [np.nan] * 5
        out[name] = [float(x) if np.isfinite(x) else None for x in qs]
    return out


def _covariance_note(ctx: AtlasContext) -> str:
    """How the shared Gaussian model was estimated, in one sentence."""
    d = ctx.model.describe()
    text = f"Covariance: {d['method_text']}; distances use the {d['estimator_text']}"
    if d["estimator"] == "ledoit-wolf":
        text += f", shrinkage {d['shrinkage']:.3g}"
    if d["rank_deficient"]:
        text += f"; the sample covariance has rank {d['rank']:,} < N = {ctx.dim:,}"
    return text + "."


def section_correlations(ctx: AtlasContext, page: Page) -> None:
    from latentatlas.analysis import correlations
    from latentatlas.atlas import figures

    cr = correlations(ctx.z, top=10, model=ctx.model, random_state=ctx.seed)
    ctx.corr = cr
    cd = cr.to_dict()
    ctx.summary["correlations"] = cd
    sec = page.section(
        "correlations",
        "2. Correlations",
        "Pearson correlations between components: how far the distribution is from an "
        "axis-aligned one."
        + (
            f" N = {ctx.dim:,} is above {len(cr.components):,}: the matrix, the |r| histogram "
            f"and the strongest pairs cover a random {len(cr.components):,} of the components "
            f"({len(cr.abs_r):,} pairs), seed {ctx.seed}."
            if cd["sampled"]
            else ""
        ),
    )
    # A heatmap shows no more than HEATMAP_COMPONENTS (evenly spaced) legibly.
    sel = np.unique(np.linspace(0, len(cr.corr) - 1, min(len(cr.corr), HEATMAP_COMPONENTS)))
    sel = sel.astype(int)
    page.figure(
        sec,
        "correlations",
        figures.correlation_figure(np.asarray(cr.corr)[np.ix_(sel, sel)], np.asarray(cr.abs_r)),
        "Left: correlation matrix of the components"
        + (
            f" (every {len(cr.corr) / len(sel):.3g}th of the {len(cr.corr):,} computed)"
            if len(sel) < len(cr.corr)
            else ""
        )
        + f". Right: histogram of |r| over all {len(cr.abs_r):,} computed component pairs.",
        f"Mean |r| = {float(cr.mean_abs_r):.3g}, median {float(cr.median_abs_r):.3g}, "
        f"max {float(cr.max_abs_r):.3g}.",
    )
    page.key_values(
        sec,
        [
            ("mean |r|", cd["mean_abs_r"]),
            ("median |r|", cd["median_abs_r"]),
            ("max |r|", cd["max_abs_r"]),
        ],
        "Off-diagonal |r|",
    )
    for label, key in (("positive", "top_positive"), ("negative", "top_negative")):
        rows = [list(t) for t in cd[key]]
        if rows:
            page.table(sec, ["j1", "j2", "r"], rows, f"Strongest {label} correlations")


def section_shape(ctx: AtlasContext, page: Page) -> None:
    from latentatlas.analysis import shape
    from latentatlas.atlas import figures

    sh = shape(ctx.z, b=ctx.b, model=ctx.model)
    ctx.shape = sh
    sd = sh.to_dict()
    # The histogram needs the real points' distances; a subsample draws the same picture at a
    # fraction of the cost (the shares themselves come from shape() over all points).
    d_real = np.asarray(ctx.model.distances_[ctx.plot_idx])
    semi = np.asarray(sh.semi_axes)
    extra = {
        "semi_axis_max": float(semi.max()),
        "semi_axis_min": float(semi.min()),
        "semi_axis_ratio": float(semi.max() / semi.min()) if semi.min() > 0 else float("inf"),
        "histogram_points": int(d_real.size),
    }
    ctx.summary["shape"] = sd | extra
    sec = page.section(
        "shape",
        "3. Shape and position",
        "Centroid, principal axes (PCA) and where the origin — the centre of naive random "
        "vectors — lies relative to the bulk of the real points. "
        + _covariance_note(ctx)
        + (
            f" The spectrum shows the {len(semi):,} computed axes; shares are of the exact total "
            "variance."
            if len(semi) < ctx.dim
            else ""
        ),
    )
    k = len(semi)
    axes_for = {t: f"more than {k}" if v is None else v for t, v in sd["axes_for"].items()}
    page.key_values(
        sec,
        [
            ("centroid distance from the origin ‖mean‖", sd["centroid_norm"]),
            ("principal axes holding 50 % of the variance", axes_for["0.5"]),
            ("principal axes holding 90 %", axes_for["0.9"]),
            ("principal axes holding 99 %", axes_for["0.99"]),
            ("largest 1σ semi-axis", extra["semi_axis_max"]),
            ("smallest 1σ semi-axis", extra["semi_axis_min"]),
            ("ratio largest / smallest", extra["semi_axis_ratio"]),
            ("Mahalanobis distance of the origin", sd["origin_mahalanobis"]),
            (ORIGIN_PLACE, closer_than_origin(sd["share_further_than_origin"])),
            (
                f"share of real points inside the cube [-b, b]^N, b = {ctx.b:.4g}",
                sd["share_in_cube"],
            ),
        ],
        "Shape and position",
    )
    page.figure(
        sec,
        "pca",
        figures.pca_figure(np.asarray(sh.eigenvalues), np.asarray(sh.explained_ratio)),
        "Left: PCA eigenvalue spectrum. Right: cumulative explained variance (dotted, dashed, "
        "dash-dotted: 50, 90, 99 %).",
        f"{axes_for['0.5']}, {axes_for['0.9']} and {axes_for['0.99']} of {ctx.dim} axes hold "
        "50, 90 and 99 % of the variance.",
    )
    page.figure(
        sec,
        "origin",
        figures.origin_figure(d_real, float(sh.origin_mahalanobis), ctx.dim),
        f"Mahalanobis distances of {d_real.size} real points from the centroid; the origin's in "
        f"yellow; chi({ctx.dim}) is what a normal distribution would give.",
        f"Origin at Mahalanobis distance {float(sh.origin_mahalanobis):.3g}; "
        f"{closer_than_origin(sh.share_further_than_origin)} of real points lie closer to the "
        "centre.",
    )
