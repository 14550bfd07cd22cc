"""Sections 7-8: projections on component pairs and the slices of those pairs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from latentatlas.atlas.context import AtlasContext

if TYPE_CHECKING:
    from latentatlas.core.html import Page

SLICE_SIZES = (1000, 5000, 20000, 80000)


def origin_distance_2d(mean2: np.ndarray, cov2: np.ndarray) -> float:
    """Mahalanobis distance of the origin from a 2-D normal (mean2, cov2); pinv for safety."""
    m = np.asarray(mean2, dtype=np.float64)
    return float(np.sqrt(max(0.0, m @ np.linalg.pinv(np.asarray(cov2, dtype=np.float64)) @ m)))


def section_projections(ctx: AtlasContext, page: Page) -> None:
    from latentatlas.analysis import confidence_ellipse
    from latentatlas.analysis.gaussian import mean_covariance
    from latentatlas.atlas import figures

    # The pairs' 2 x 2 covariances: from the dense matrix when there is one, else one pass over
    # the pairs' columns (no N x N matrix above N = 4,096).
    comps = sorted({j for pair in ctx.pairs for j in pair})
    where = {j: i for i, j in enumerate(comps)}
    if ctx.model.has_covariance:
        cov, where = ctx.model.covariance_, {j: j for j in comps}
    else:
        cov = mean_covariance(ctx.z, columns=np.array(comps))[1]
    mean = np.asarray(ctx.stats.mean)
    std = np.asarray(ctx.stats.std)
    real = ctx.z[ctx.plot_idx]
    fake = ctx.fake[: ctx.fake_plot_points]
    zoom = 1.25 * ctx.b
    rows = []
    sec = page.section(
        "projections",
        "7. Projections on component pairs",
        "Real points (blue), the origin (yellow) and artificial points (red) on the plane of two "
        "components, with the 2σ and 3σ ellipses of the pair's 2×2 covariance. Pairs: "
        + (", ".join(str(p) for p in ctx.user_pairs) or "none")
        + " given; "
        + (", ".join(str(p) for p in ctx.auto_pairs) or "none")
        + " chosen automatically (components along which the origin lies furthest outside).",
    )
    for pair in ctx.pairs:
        j = list(pair)
        m2, c2 = mean[j], cov[np.ix_([where[i] for i in j], [where[i] for i in j])]
        ellipses = {ns: np.asarray(confidence_ellipse(m2, c2, ns)) for ns in (2.0, 3.0)}
        d2 = origin_distance_2d(m2, c2)
        row = {
            "pair": list(pair),
            "source": "given" if pair in ctx.user_pairs else "auto",
            "mean": [float(m2[0]), float(m2[1])],
            "std": [float(std[j[0]]), float(std[j[1]])],
            "r": float(c2[0, 1] / np.sqrt(c2[0, 0] * c2[1, 1])) if c2[0, 0] * c2[1, 1] > 0 else 0.0,
            "origin_mahalanobis_2d": d2,
        }
        rows.append(row)
        page.figure(
            sec,
            f"projection_{pair[0]}_{pair[1]}",
            figures.projection_figure(real[:, j], fake[:, j], pair, ellipses, zoom),
            f"Components z[{pair[0]}], z[{pair[1]}] ({row['source']} pair): {len(real)} real, "
            f"{len(fake)} artificial points; right: zoom ±{zoom:.3g} around the origin.",
            f"Origin at 2-D Mahalanobis distance {d2:.3g} from the pair's mean "
            f"({'outside' if d2 > 3 else 'inside'} the 3σ ellipse).",
        )
    ctx.summary["projections"] = {"zoom_half_width": zoom, "pairs": rows}
    page.table(
        sec,
        ["pair", "pair source", "means", "stds", "r", "origin's 2-D Mahalanobis distance"],
        [
            [
                tuple(r["pair"]),
                r["source"],
                tuple(r["mean"]),
                tuple(r["std"]),
                r["r"],
                r["origin_mahalanobis_2d"],
            ]
            for r in rows
        ],
        "Pairs",
    )


def section_slices(ctx: AtlasContext, page: Page) -> None:
    from latentatlas.analysis import slice_counts, slice_mask, slice_scan
    from latentatlas.analysis.blockstats import slice_counts_all
    from latentatlas.atlas import figures

    sizes = tuple(sorted({s for s in SLICE_SIZES if s < ctx.n} | {ctx.n}))
    per_pair = []
    sec = page.section(
        "slices",
        "8. Slices",
        f"The slice of a pair (j1, j2): the points whose other N − 2 components all satisfy "
        f"|z_j| ≤ b (b = {ctx.b:.4g}). Every uniform-cube point is in every slice by "
        "construction; the counts show how few real points are.",
    )
    fake = ctx.fake[: ctx.fake_plot_points]
    for pair in ctx.pairs:
        mask = np.asarray(slice_mask(ctx.z, pair, ctx.b))
        count = int(mask.sum())
        counts = slice_counts(ctx.z, pair, ctx.b, sizes=sizes, random_state=ctx.seed)
        # Measured, not assumed: a check that the artificial points are what the slice expects.
        fake_share = float(np.mean(slice_mask(ctx.fake, pair, ctx.b)))
        per_pair.append(
            {
                "pair": list(pair),
                "count": count,
                "n": ctx.n,
                "share": count / ctx.n,
                "counts": counts,
                "artificial_share_in_slice": fake_share,
            }
        )
        inside = ctx.z[np.flatnonzero(mask)[: ctx.plot_points]][:, list(pair)]
        page.figure(
            sec,
            f"slice_{pair[0]}_{pair[1]}",
            figures.slice_figure(inside, fake[:, list(pair)], pair, ctx.b, count, ctx.n),
            f"Slice of z[{pair[0]}], z[{pair[1]}]: real points in the slice (blue) and "
            f"artificial points (red); dashed: [-b, b]².",
            f"{count} of {ctx.n} real points ({count / ctx.n:.3%}) are in the slice, against "
            f"{fake_share:.0%} of the artificial ones.",
        )
    used_sizes = [int(c["size"]) for c in per_pair[0]["counts"]] if per_pair else []
    page.table(
        sec,
        ["pair"] + [f"of {s}" for s in used_sizes] + ["artificial in slice"],
        [
            [tuple(p["pair"])]
            + [int(c["count"]) for c in p["counts"]]
            + [p["artificial_share_in_slice"]]
            for p in per_pair
        ],
        "Real points in the slice for growing random subsets (nested)",
    )

    # The out-of-cube counts of all points come from the driver (local blocks or Dask).
    partial = slice_counts_all(ctx.driver, ctx.b)
    scan = slice_scan(ctx.z, ctx.b, partial=partial, random_state=ctx.seed)
    sd = scan.to_dict()
    ctx.summary["slices"] = {"b": ctx.b, "sizes": used_sizes, "pairs": per_pair, "scan": sd}
    page.figure(
        sec,
        "slice_scan",
        figures.slice_scan_figure(np.asarray(scan.counts), ctx.n),
        (
            f"Histogram of the real-point counts of the slices of {sd['n_pairs_evaluated']:,} "
            f"of the {sd['n_pairs']:,} component pairs (a random sample with every pair that can "
            f"be among the fullest; the mean is over all pairs), of {ctx.n} points."
            if sd["sampled"]
            else f"Histogram of the real-point counts of the slices of all {sd['n_pairs']} "
            f"component pairs (of {ctx.n} points)."
        ),
        f"Median {sd['median']:.4g} points per slice, max {sd['max']}; "
        f"{sd['share_pairs_empty']:.1%} of the slices are empty.",
    )
    page.key_values(
        sec,
        [
            ("pairs scanned", sd["n_pairs"]),
            ("count: min / median / mean / max", (sd["min"], sd["median"], sd["mean"], sd["max"])),
            ("share of empty slices", sd["share_pairs_empty"]),
            ("real points inside the whole cube (in every slice)", sd["n_inside_cube"]),
        ],
        "Scan of all pairs",
    )
    fullest = [t for t in sd["top_pairs"][:5] if t[2] > 0]
    if fullest:
        page.table(sec, ["j1", "j2", "real points in the slice"], fullest, "Fullest slices")
