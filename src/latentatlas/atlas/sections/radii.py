"""Sections 4-6: radii against the uniform cube, the cube's thin-shell theory, the generator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from latentatlas.atlas.context import AtlasContext

if TYPE_CHECKING:
    from latentatlas.core.html import Page

STANDARD_NS = (2, 3, 10, 32, 256, 1024)
# Multiples of the fitted b for the union of growing cubes (the study's attempt to escape the
# thin shell): from well inside the real radii to beyond them.
UNION_FACTORS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)

THEORY_LABELS = {"mean_r2": "⟨R²⟩", "mean_r": "⟨R⟩", "sigma_r": "σ_R", "rel_width": "σ_R/⟨R⟩"}


def theory_rows(td: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The theory table (``TheoryTable.to_dict()``) as headers and rows: per quantity, the
    theory, the Monte Carlo value and their relative error."""
    headers = ["N"]
    keys = ["N"]
    for key, label in THEORY_LABELS.items():
        headers += [f"{label} theory", f"{label} MC", "rel. err."]
        keys += [f"theory_{key}", f"mc_{key}", f"relerr_{key}"]
    return headers, [[r[k] for k in keys] for r in td["rows"]]


def normalised_radii(tt: Any, b: float) -> dict[int, np.ndarray]:
    """Monte Carlo radii per N divided by b·sqrt(N/3), the mean radius scale."""
    return {int(n): np.asarray(r) / (b * np.sqrt(int(n) / 3)) for n, r in tt.radii.items()}


def section_radii(ctx: AtlasContext, page: Page) -> None:
    from latentatlas.analysis import radii as radii_of
    from latentatlas.analysis import union_coverage
    from latentatlas.atlas import figures
    from latentatlas.generators import UniformCube

    rc = ctx.radii
    rd = rc.to_dict()
    real_r = np.asarray(rc.real_radii)
    union_bs = [round(ctx.b * f, 6) for f in UNION_FACTORS]
    union = union_coverage(real_r, union_bs, ctx.dim, random_state=ctx.seed, n_mc=ctx.mc)
    union_pts = UniformCube(b=union_bs).fit(ctx.z[:1]).sample(ctx.sample, random_state=ctx.seed)
    union_r = np.asarray(radii_of(union_pts))
    ctx.summary["radii"] = rd
    ctx.summary["union"] = union
    sec = page.section(
        "radii",
        "4. Radii",
        "Euclidean norms ‖z‖ of the real points against those of points uniform in the cube "
        "[-b, b]^N. The cube's radii concentrate in a thin shell; b is fitted to the real radii "
        "(closed-form 1-D Wasserstein fit of the radius quantiles), never assumed.",
    )
    real = rd["real"]
    page.figure(
        sec,
        "radii",
        figures.radii_figure(
            real_r,
            {float(k): np.asarray(v) for k, v in rc.cube_radii.items()},
            ctx.b,
            ctx.b_fitted,
        ),
        "Histogram of the real radii ‖z‖ (blue) against uniform-cube radii for several b "
        f"(thick: the b used, {ctx.b:.4g}).",
        f"Fitted b = {ctx.b_fitted:.4g}"
        + (f" (the report uses the given b = {ctx.b:.4g})" if ctx.b_arg != "auto" else "")
        + f"; real ‖z‖ mean {real['mean']:.4g}, std {real['std']:.3g}.",
    )
    page.table(
        sec,
        [
            "b",
            "Wasserstein-1 to the real radii",
            "cube radius mean",
            "shell from (1 %)",
            "to (99 %)",
        ],
        [[c["b"], c["wasserstein"], c["mean"], c["r_low"], c["r_high"]] for c in rd["cubes"]],
        f"Cube sizes compared (fitted b = {ctx.b_fitted:.4g}; best of these by Wasserstein: "
        f"{rd['b_best']:.4g})",
    )
    page.key_values(
        sec,
        [(k, real[k]) for k in ("mean", "std", "min", "max")]
        + [(f"quantile {q}", v) for q, v in real["quantiles"].items()],
        f"Real radii (n = {rd['n']})",
    )
    missed = float(union["share_missed"])
    intervals = [(float(x["b"]), float(x["r_low"]), float(x["r_high"])) for x in union["shells"]]
    page.figure(
        sec,
        "union",
        figures.union_figure(real_r, union_r, intervals, missed),
        "Real radii against a union of growing cubes b = "
        + ", ".join(f"{b:.3g}" for b in union["bs"])
        + " (each artificial point picks one cube); shaded: the shell each cube covers.",
        f"{missed:.1%} of real radii fall in none of the shells: the union still misses them.",
    )
    page.table(
        sec,
        ["b", "shell from radius", "to radius", "share of real radii inside"],
        [[x["b"], x["r_low"], x["r_high"], x["share_real"]] for x in union["shells"]],
        "Shells of the union (1–99 % of each cube's radii)",
    )
    page.key_values(
        sec,
        [
            ("share of real radii covered by some shell", union["share_covered"]),
            ("share missed", union["share_missed"]),
            ("… inside the innermost shell", union["share_below"]),
            ("… beyond the outermost shell", union["share_above"]),
            ("… in gaps between shells", union["share_between"]),
        ],
        "What the union covers",
    )


def section_theory(ctx: AtlasContext, page: Page) -> None:
    from latentatlas.analysis import theory_table
    from latentatlas.atlas import figures

    ns = tuple(sorted(set(STANDARD_NS) | {ctx.dim}))
    tt = theory_table(Ns=ns, b=ctx.b, n=ctx.mc, random_state=ctx.seed)
    td = tt.to_dict()
    ctx.summary["theory"] = td
    headers, rows = theory_rows(td)
    sec = page.section(
        "theory",
        "5. Uniform-cube theory",
        "For N independent components uniform in [-b, b]: ⟨R²⟩ = N b²/3, ⟨R⟩ ≈ b·sqrt(N/3 − 1/15), "
        "σ_R → b/sqrt(15) whatever N, so the relative shell width ≈ 1/sqrt(5N) shrinks: in high "
        "dimension almost every point sits at the same radius. Each formula against Monte Carlo.",
    )
    page.table(sec, headers, rows, f"Theory vs Monte Carlo ({ctx.mc} draws per N, b = {ctx.b:.4g})")
    page.figure(
        sec,
        "theory_shells",
        figures.shell_figure(normalised_radii(tt, ctx.b)),
        "Radius distributions of uniform cubes, R / (b·sqrt(N/3)), for N = "
        + ", ".join(str(n) for n in ns)
        + ".",
        f"Relative shell width 1/sqrt(5N) = {1 / np.sqrt(5 * ctx.dim):.3g} at N = {ctx.dim} "
        f"(σ_R → b/sqrt(15) = {ctx.b / np.sqrt(15):.3g}).",
    )


def section_generator(ctx: AtlasContext, page: Page) -> None:
    from latentatlas.analysis import radii as radii_of
    from latentatlas.atlas import figures

    st = ctx.stats
    mean, std = np.asarray(st.mean), np.asarray(st.std)
    fake_r = np.asarray(radii_of(ctx.fake))
    # How many components' ±2σ bulk pokes out of the cube: the per-component view of why the
    # cube and the real points overlap so little.
    sticking = int(np.sum((mean + 2 * std > ctx.b) | (mean - 2 * std < -ctx.b)))
    info = {
        "generator": "UniformCube",
        "b": ctx.b,
        "b_source": "fitted" if ctx.b_arg == "auto" else "given",
        "n_samples": int(ctx.fake.shape[0]),
        "random_state": ctx.seed,
        "sample_radius_mean": float(fake_r.mean()),
        "sample_radius_std": float(fake_r.std()),
        "components_2sigma_outside_cube": sticking,
    }
    ctx.summary["generator"] = info
    sec = page.section(
        "generator",
        "6. Artificial points: UniformCube",
        "The first generator: each of the N components drawn independently and uniformly in "
        "[-b, b]. These artificial points are the red points of sections 7–9.",
    )
    page.key_values(
        sec,
        [
            ("generator", f"UniformCube(b={ctx.b:.4g}), b {info['b_source']}"),
            ("cube half-width b", info["b"]),
            ("artificial points", info["n_samples"]),
            ("random_state", info["random_state"]),
            ("their radius: mean / std", (info["sample_radius_mean"], info["sample_radius_std"])),
            ("components whose real mean ± 2σ leaves [-b, b]", sticking),
        ],
        "Generator",
    )
    page.figure(
        sec,
        "component_ranges",
        figures.component_ranges_figure(
            mean, std, np.asarray(st.minimum), np.asarray(st.maximum), ctx.b
        ),
        "Per component, sorted by mean: real min–max (grey), mean ± 2σ (blue), the cube "
        "[-b, b] (red band) and 0 (yellow).",
        f"{sticking} of {ctx.dim} components have their ±2σ range outside [-b, b], "
        f"b = {ctx.b:.4g}.",
    )
