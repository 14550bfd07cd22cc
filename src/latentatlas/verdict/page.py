"""The verdict page of ``latentatlas compare``: the table, the detector check, the image grids.

``COLUMNS`` is shared with the atlas's section 11, which shows the same table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from latentatlas.core.html import Page, Section
from latentatlas.core.imaging import png_bytes, square_grid
from latentatlas.verdict.charts import ladder_chart, verdict_chart
from latentatlas.verdict.ladder import AUTOMATIC
from latentatlas.verdict.ranking import (
    faces_apply,
    margin_sentence,
    rank_verdict,
    winner_sentence,
)
from latentatlas.verdict.tables import add_image_tables, add_ranking_table

# (key in a verdict row, column header); "fitted" and "seconds" are shown per generator below.
COLUMNS = (
    ("generator", "generator"),
    ("class", "class"),
    ("n", "n"),
    ("face_rate", "face rate"),
    ("two_sample_accuracy", "two-sample accuracy"),
    ("mahalanobis_tail", "Mahalanobis tail"),
    ("precision", "precision"),
    ("recall", "recall"),
    ("density", "density"),
    ("coverage", "coverage"),
    ("reencoding_drift", "re-encoding drift"),
    ("copy_distance", "copy distance"),
)

INTRO = (
    "What the numbers mean. Each generator is fitted on the train z-points, sampled, decoded,"
    " and judged against held-out real z-points it never saw. Face rate: share of decoded "
    "samples in which the face detector finds a face. Two-sample accuracy: cross-validated "
    "accuracy of an MLP telling samples from held-out points (0.5 = indistinguishable, 1 = "
    "fully separated). Mahalanobis tail: share beyond the 99th percentile of the held-out "
    "points' distances. Precision, recall, density, coverage: k-NN manifold metrics (Naeem et"
    " al. 2020, k = 5). Re-encoding drift and copy distance: relative to held-out real points"
    " (1 = like real data; copy distance near 0 = copies of training points). Spread: RMS "
    "distance of the samples to their mean relative to the held-out points' (below 0.5 = "
    "collapsed). MMD p: permutation p-value of a kernel two-sample test (small = told apart "
    "from real points). Log-lik: the generator's log-density of the held-out points in nats "
    "per dimension (higher is better; a dash where some held-out points lie outside a bounded"
    " support). The face rate is a sanity check only: it fails the degradation ladder (a "
    "collapsed generator still decodes to a face), so the ranking does not use it."
)

IMAGES_INTRO = (
    "The decoded samples judged by networks the autoencoder did not make, against the decoded "
    "held-out codes (so the decoder's own blur is not counted against a generator). Ceiling: "
    "decoded train codes, what a perfect generator scores; floor: noise images. FD: Fréchet "
    "distance of the judge's features; precision/recall/density/coverage and an MLP two-sample "
    "test in the same features; attr. gap: mean difference, over the 40 CelebA attributes, "
    "between the share of generated and of reference images the attribute classifier calls "
    "positive; CNN: a small CNN trained to tell the images from the reference, "
    "cross-validated (needs no pretrained weights, so it works for any images)."
)

LADDER_INTRO = (
    "Known degradations of mvn, judged like every generator: its samples at temperature "
    "τ = 0.25 ... 1.5 (scaled about the mean), with only its covariance's diagonal, and with its "
    "mean moved one standard deviation along the first principal axis. A metric passes when "
    "τ = 1 scores best, it gets monotonically worse away from τ = 1 (within its intervals), "
    "τ = 0.25 and 1.5 are clearly worse than τ = 1, and the diagonal and shifted versions score "
    "worse than mvn. Metrics that fail are left out of this verdict's ranking."
)

# Optional per-row numbers after the table's fixed columns (verdicts written before they existed
# lack them): key, short header, full name.
EXTRA_COLUMNS = (
    ("spread", "spread", "spread about the mean relative to real points (< 0.5: collapsed)"),
    ("mmd_p", "MMD p", "permutation p-value of the RBF-kernel MMD test"),
    ("loglik_per_dim", "log-lik", "held-out log-likelihood, nats per dimension"),
)


# Short headers keep the 12-column table inside a 1024-px window; the full name shows on hover.
HEADERS = {
    "two_sample_accuracy": ("2-sample acc.", "two-sample accuracy (0.5 = indistinguishable)"),
    "mahalanobis_tail": ("Mahal. tail", "Mahalanobis tail share"),
    "precision": ("prec.", "precision"),
    "density": ("dens.", "density"),
    "coverage": ("cov.", "coverage"),
    "reencoding_drift": ("drift", "re-encoding drift"),
    "copy_distance": ("copy dist.", "copy distance"),
}


def write_verdict_page(
    verdict: Mapping[str, Any],
    grids: Mapping[str, np.ndarray],
    directory: Path,
    links: Sequence[tuple[str, str]] = (),
) -> None:
    """Write ``directory/index.html`` (grids embedded) and the grid PNGs beside it.

    The page opens with the winner, by how much it wins, the chart and the table; the rule and
    the definitions follow. ``links`` ((text, relative href)) lead to the pages around it (the
    demo's landing page and atlas)."""
    page = Page("latentatlas compare: the generators' verdict")
    det = verdict["detector"]
    sec = page.section("table", "The verdict")
    add_verdict_table(page, sec, verdict, rule_href="#rule")
    for text, href in links:
        page.link(sec, text, href)
    page.lead_key = sec.key
    page.add_header_table(
        [
            ("checkpoint", verdict.get("checkpoint", "")),
            ("samples per generator", verdict["n"]),
            ("seed", verdict["seed"]),
            ("train z-points (fitting)", verdict["n_train"]),
            ("held-out z-points (judging)", verdict["n_heldout"]),
        ]
    )
    sec = page.section("rule", "How the winner is chosen", INTRO)
    page.lead(sec, (verdict.get("ranking") or rank_verdict(verdict))["rule"])

    if verdict.get("image_reference"):
        sec = page.section("images", "Image-space judges", IMAGES_INTRO)
        add_image_tables(page, sec, verdict, _ranking(verdict))
    if verdict.get("ladder"):
        add_ladder_section(page, verdict["ladder"])

    sec = page.section(
        "grids",
        "Decoded samples",
        "The first 64 samples of each generator, decoded (same seed for all), best first.",
    )
    rows = {row["generator"]: row for row in verdict["rows"]}
    order = [*(["reconstructions"] if "reconstructions" in grids else []), *_ranking(verdict)]
    items, dropped = [], []
    for name in order:
        row = rows.get(name)
        if row is not None and row.get("duplicate_of"):
            dropped.append(f"{name}: identical to {row['duplicate_of']} (same samples), not shown")
            continue
        if row:
            key = f"two-sample accuracy {row['two_sample_accuracy']:.2f}"
            if row.get("face_rate") is not None:
                key = f"face rate {row['face_rate']:.1%}, {key}"
        elif faces_apply(verdict):
            key = f"face rate {det['reconstructions']:.1%} (detector ceiling)"
        else:
            key = "the image judges' reference"
        what = f"{name}: decoded samples" if row else "held-out real z-points, decoded"
        items.append((f"grid_{slug(name)}", _png(grids[name]), what, key))
    page.gallery(sec, items, "; ".join(dropped))

    sec = page.section(
        "fitted",
        "Fitted parameters",
        "What each generator learnt from the train z-points (arrays summarised).",
    )
    for row in verdict["rows"]:
        page.key_values(
            sec,
            [(k, v) for k, v in _flat(row["fitted"])],
            f"{row['generator']} ({row['class']}), {row['seconds']} s",
        )
    page.write(directory)


def _ranking(verdict: Mapping[str, Any]) -> list[str]:
    return list((verdict.get("ranking") or rank_verdict(verdict))["order"])


def add_verdict_table(
    page: Page, sec: Section, verdict: Mapping[str, Any], caption: str = "", rule_href: str = ""
) -> None:
    """The winner, by how much it wins and a link to the rule (``rule_href``: the verdict
    page's ``#rule``), the chart, the ranking and the table (best first), the detector's
    ceiling/floor and the disagreement notes (shared with the atlas's section 11)."""
    det = verdict["detector"]
    ranking = verdict.get("ranking") or rank_verdict(verdict)
    winner = winner_sentence(ranking, verdict["rows"])
    page.verdict_line(sec, winner, margin_sentence(ranking, verdict["rows"]), rule_href)
    faces = faces_apply(verdict)
    if not faces:
        page.note(sec, f"Face judges: {verdict['domain']['reason']}.")
    rows = {row["generator"]: row for row in verdict["rows"]}
    ordered = [rows[name] for name in ranking["order"]]
    shown = [r for r in ordered if not r.get("duplicate_of")]
    page.figure(
        sec,
        "verdict_chart",
        verdict_chart(shown, det["reconstructions"], det["noise"], faces=faces),
        "Every metric per generator, best first (duplicates left out); dashed: what real data "
        "scores" + (", dotted: the detector on noise images." if faces else "."),
        f"winner {ranking['winner']}"
        + (f", face-rate ceiling {_share(det['reconstructions'])}" if faces else ""),
    )
    add_ranking_table(page, sec, verdict, ranking)
    hidden = _HIDDEN if faces else (*_HIDDEN, "face_rate")
    page.table(
        sec,
        [
            "rank",
            *(HEADERS.get(key, label) for key, label in COLUMNS if key not in hidden),
            *((short, full) for _, short, full in EXTRA_COLUMNS),
        ],
        [
            [ranking["ranks"][r["generator"]], _name(r, ranking)]
            + [r[key] for key, _ in COLUMNS if key not in hidden and key != "generator"]
            + [r.get(key) for key, _, _ in EXTRA_COLUMNS]
            for r in ordered
        ],
        caption,
    )
    # Verdicts written before the column existed have no share: nothing to note for them.
    bounded = [
        r
        for r in ordered
        if (r.get("loglik_in_support") is not None) and r["loglik_in_support"] < 1.0
    ]
    if bounded:
        page.note(
            sec,
            "Share of held-out points inside the support (where the log-likelihood is −∞): "
            + ", ".join(f"{r['generator']} {_share(r['loglik_in_support'])}" for r in bounded)
            + ".",
        )
    if faces:
        page.note(
            sec,
            f"Face detector {det['name']}: faces found in {_share(det['reconstructions'])}"
            f" of {det['n']} decoded held-out reconstructions (the ceiling) and in "
            f"{_share(det['noise'])} of {det['n']} noise images (the floor). "
            f"{verdict['n']} samples per generator.",
        )
    else:
        page.note(sec, f"{verdict['n']} samples per generator.")
    if verdict.get("left_out"):
        page.note(
            sec,
            f"Learned priors not in this verdict: {', '.join(verdict['left_out'])} (compare leaves "
            "out diffusion and vae2 by default: each takes 1.5-3 minutes to fit on 2 CPU cores; "
            "add them with --generators).",
        )
    agree = ["The latent metrics and the face rate agree."] if faces else []
    for note in verdict["disagreements"] or agree:
        page.note(sec, note)


def add_ladder_section(page: Page, ladder: Mapping[str, Any]) -> None:
    """The ladder chart (ranking metrics and the face rate) and every checked metric's result."""
    from latentatlas.verdict.catalogue import BY_KEY
    from latentatlas.verdict.charts import CHART_KEYS

    sec = page.section("ladder", "The degradation ladder", LADDER_INTRO)
    if ladder.get("automatic"):
        page.note(sec, AUTOMATIC)
    checks = ladder["checks"]
    keys = [k for k in CHART_KEYS if k in checks]
    failed = [BY_KEY[k].label for k, c in checks.items() if not c["passed"]]
    page.figure(
        sec,
        "ladder_chart",
        ladder_chart(ladder["rows"], checks, keys),
        "Each ranking metric, and three reported numbers that fail, on the ladder: value against "
        "temperature, error bars 95 % intervals, the diagonal and shifted versions at τ = 1.",
        f"{len(checks) - len(failed)} of {len(checks)} metrics pass",
    )
    page.table(
        sec,
        ["metric", "passes", "why not"],
        [[BY_KEY[k].label, c["passed"], "; ".join(c["failures"])] for k, c in checks.items()],
    )


# Shown elsewhere: the class under "Fitted parameters", n in the note under the table.
_HIDDEN = ("class", "n")


def _name(row: Mapping[str, Any], ranking: Mapping[str, Any]) -> str:
    name = row["generator"]
    if row.get("duplicate_of"):
        return f"{name} (= {row['duplicate_of']})"
    if name in ranking.get("collapsed", ()):
        return f"{name} (collapsed)"
    if name == ranking["winner"]:
        return f"{name} (best)"
    if name in ranking["tied_with_winner"]:
        return f"{name} (tied)"
    return name


def _share(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_")


def _png(images: np.ndarray) -> bytes:
    return png_bytes(square_grid(images))


def _flat(d: Mapping[str, Any], prefix: str = ""):
    for k, v in d.items():
        if isinstance(v, Mapping):
            yield from _flat(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v
