"""The atlas's opening: its conclusions in plain words, generated from the summary's numbers.

``conclusions(summary)`` is a pure function of ``summary.json`` (shape, radii, union, voids,
components, correlations), so the page, ``latentatlas analyze`` and ``latentatlas demo`` print
the same lines, and every number in them is stored under ``summary["conclusions"]["numbers"]``
exactly as shown.
"""

from __future__ import annotations

from numbers import Integral
from typing import TYPE_CHECKING, Any

from latentatlas.atlas.context import AtlasContext

if TYPE_CHECKING:
    from latentatlas.core.html import Page


def _where(closer: float) -> str:
    # In N dimensions the real points sit on a Mahalanobis shell of radius about sqrt(N), not
    # near their centre; "where the origin lies" is read against that shell.
    if closer < 0.05:
        return "near the centre of the real points"
    if closer < 0.95:
        return "among the real points, as far from their centre as a typical one"
    if closer < 1:
        return "at the border of the data region"
    return "outside every real point"


def conclusions(summary: dict[str, Any]) -> dict[str, Any]:
    """Five sentences and the numbers they show (rounded as shown)."""
    from latentatlas.core.html import fmt

    sh, radii, voids = summary["shape"], summary["radii"], summary["voids"]
    comp, corr = summary["components"], summary["correlations"]
    cube = next(c for c in radii["cubes"] if c["b"] == radii["b_best"])
    q = radii["real"]["quantiles"]
    raw = {
        "n": sh["n"],
        "N": sh["N"],
        "centroid_norm": sh["centroid_norm"],
        "semi_axis_max": sh["semi_axis_max"],
        "semi_axis_min": sh["semi_axis_min"],
        # None when a truncated spectrum (N > 4,096, many points) holds less than 90 %.
        "axes_for_90pct": sh["axes_for"]["0.9"] or len(sh["eigenvalues"]),
        "variance_pct": 90,
        "origin_mahalanobis": sh["origin_mahalanobis"],
        "pct_real_closer_than_origin": 100 * (1 - sh["share_further_than_origin"]),
        "b": summary["settings"]["b_used"],
        "pct_cube_inside_data": 100 * (1 - voids["void_shares"]["mahalanobis_tail"]),
        "tail_percentile": round(100 * voids["void_shares"]["tail_quantile"]),
        "pct_real_inside_cube": 100 * sh["share_in_cube"],
        "radius_low_percentile": 1,  # the quantiles "0.01" and "0.99" below
        "radius_high_percentile": 99,
        "real_radius_p01": q["0.01"],
        "real_radius_p99": q["0.99"],
        "cube_shell_low": cube["r_low"],
        "cube_shell_high": cube["r_high"],
        "union_cubes": len(summary["union"]["shells"]),
        "pct_real_radii_in_no_shell": 100 * summary["union"]["share_missed"],
        "components_not_normal": comp["normality"]["n_rejected"],
        "alpha": comp["normality"]["alpha"],
        "max_abs_r": corr["max_abs_r"],
    }
    # Stored as shown (floats rounded to fmt's digits), so the page and summary.json agree digit
    # for digit.
    raw = {k: int(v) if isinstance(v, Integral) else float(fmt(float(v))) for k, v in raw.items()}
    s = {k: fmt(v) for k, v in raw.items()}
    closer = raw["pct_real_closer_than_origin"] / 100
    lines = [
        f"The {s['n']} z-points (N = {s['N']}) fill an ellipsoid whose centre lies "
        f"{s['centroid_norm']} from the origin; its semi-axes run from {s['semi_axis_max']} "
        f"down to {s['semi_axis_min']}, and "
        f"{'' if sh['axes_for']['0.9'] else 'more than '}{s['axes_for_90pct']} of the {s['N']} "
        "principal "
        f"axes hold {s['variance_pct']} % of the variance.",
        f"The origin is at Mahalanobis distance {s['origin_mahalanobis']}, further out than "
        f"{s['pct_real_closer_than_origin']} % of real points, i.e. {_where(closer)}.",
        f"A uniform cube of matching radius (b = {s['b']}) puts {s['pct_cube_inside_data']} % "
        "of its points inside the data region (within the real points' "
        f"{s['tail_percentile']}th-percentile Mahalanobis radius), and only "
        f"{s['pct_real_inside_cube']} % of the real points lie inside [-b, b]^N.",
        f"Real radii ‖z‖ spread from {s['real_radius_p01']} to {s['real_radius_p99']} "
        f"({s['radius_low_percentile']}st to {s['radius_high_percentile']}th percentile), while "
        f"the cube's points sit in a thin shell from "
        f"{s['cube_shell_low']} to {s['cube_shell_high']}; even a union of {s['union_cubes']} "
        f"cubes of growing size leaves {s['pct_real_radii_in_no_shell']} % of real radii in no "
        "shell.",
        f"The components are not independent normals: {s['components_not_normal']} of "
        f"{s['N']} fail a Shapiro–Wilk test at level {s['alpha']}, and the strongest "
        f"correlation between two components is |r| = {s['max_abs_r']}.",
    ]
    return {"lines": lines, "numbers": raw}


def conclusion_lines(summary: dict[str, Any]) -> list[str]:
    """What ``analyze`` and ``demo`` print: the page's opening lines, plus the winner and its
    rule when the atlas carries a verdict."""
    from latentatlas.verdict.ranking import winner_sentence

    lines = list(summary["conclusions"]["lines"])
    if "verdict" in summary:
        ranking = summary["verdict"]["ranking"]
        lines += [winner_sentence(ranking, summary["verdict"]["rows"]), ranking["rule"]]
    return lines


def section_conclusions(ctx: AtlasContext, page: Page) -> None:
    """The opening section, placed first on the page although it is written last."""
    result = conclusions(ctx.summary)
    ctx.summary["conclusions"] = result
    sec = page.section("conclusions", "In plain words")
    page.bullets(sec, result["lines"], "conclusions")
    if ctx.verdict is not None:
        from latentatlas.verdict.ranking import margin_sentence, winner_sentence

        ranking, rows = ctx.summary["verdict"]["ranking"], ctx.verdict["rows"]
        # The rule is stated once, on the verdict page: linked, not repeated.
        rule = f"{ctx.verdict_link}#rule"
        page.verdict_line(
            sec, winner_sentence(ranking, rows), margin_sentence(ranking, rows), rule
        )
        page.link(sec, "Section 11: the verdict, with its chart and table", "#verdict")
    for text, href in ctx.links:
        page.link(sec, text, href)
    page.sections.insert(0, page.sections.pop())
    page.lead_key = sec.key
