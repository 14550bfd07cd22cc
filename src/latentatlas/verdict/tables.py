"""The verdict's image-space and ranking tables: per judge, every generator next to the ceiling
(decoded train codes against the decoded held-out reference: what a perfect generator scores) and
the floor (noise images)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from latentatlas.core.html import Page, Section
from latentatlas.core.numbers import fmt_ci
from latentatlas.verdict.catalogue import BY_KEY, lookup
from latentatlas.verdict.judges import IMAGE_JUDGES

# Per feature judge: (key under image.<judge>, short header, full name).
FEATURE_COLUMNS = (
    ("fd", "FD", "Fréchet distance to the reference (lower is better)"),
    ("two_sample_accuracy", "2-sample acc.", "MLP two-sample accuracy (0.5 = indistinguishable)"),
    ("precision", "prec.", "k-NN precision (k = 5)"),
    ("recall", "recall", "k-NN recall"),
    ("density", "dens.", "k-NN density"),
    ("coverage", "cov.", "k-NN coverage"),
)


def add_ranking_table(
    page: Page, sec: Section, verdict: Mapping[str, Any], ranking: Mapping[str, Any]
) -> None:
    """Rank, mean rank and every ranking metric with its interval, best first."""
    used = [BY_KEY[k] for k in ranking.get("metrics", []) if k in BY_KEY]
    if not used:
        return
    rows = {r["generator"]: r for r in verdict["rows"]}
    page.table(
        sec,
        ["rank", "generator", "mean rank", *((m.label, m.label) for m in used)],
        [
            [
                ranking["ranks"][name],
                name,
                ranking["mean_rank"].get(name),
                *(fmt_ci(m.value(rows[name]), m.interval(rows[name])) for m in used),
            ]
            for name in ranking["order"]
            if not rows[name].get("duplicate_of")
        ],
        "The ranking metrics, ±: half the 95 % interval (Wilson for accuracies, bootstrap "
        "otherwise). A generator is ranked on each metric; the order is by mean rank.",
    )


def add_image_tables(
    page: Page, sec: Section, verdict: Mapping[str, Any], order: list[str]
) -> None:
    """One table per image judge, ceiling and floor first, then the generators in ``order``."""
    ref = verdict.get("image_reference")
    if not ref:
        return
    rows = {r["generator"]: r for r in verdict["rows"]}
    shown = [(name, rows[name].get("image") or {}) for name in order if name in rows]
    shown = [(n, img) for n, img in shown if not rows[n].get("duplicate_of")]
    lines = [("ceiling: decoded train codes", ref["ceiling"]), ("floor: noise", ref["floor"])]
    missing = [j for j in IMAGE_JUDGES if j not in ref["judges"]]
    if missing:
        page.note(
            sec,
            f"Not run: {', '.join(missing)} (left out with --judges, or not installed: the face "
            "descriptor needs pip install 'latentatlas[judge]').",
        )
    for judge, info in ref["judges"].items():
        everyone = [*lines, *shown]
        caption = f"{judge}: {info['title']}; {info['n']} images per generator."
        if judge == "cnn":
            cols = [("two_sample_accuracy", "2-sample acc.", "CNN two-sample accuracy")]
        else:
            cols = list(FEATURE_COLUMNS)
            if judge == "attributes":
                cols.append(("attribute_gap", "attr. gap", "mean |share generated - reference|"))
        page.table(
            sec,
            ["", *((short, full) for _, short, full in cols)],
            [
                [
                    name,
                    *(
                        fmt_ci(lookup(img, f"{judge}.{k}"), lookup(img, f"{judge}.{k}_ci"))
                        for k, _, _ in cols
                    ),
                ]
                for name, img in everyone
            ],
            caption,
        )
        if judge == "attributes":
            notes = []
            for name, img in shown:
                worst = lookup(img, "attributes.worst_attributes") or []
                if worst:
                    notes.append(
                        f"{name}: "
                        + ", ".join(
                            f"{w['name']} {w['generated']:.0%} (reference {w['reference']:.0%})"
                            for w in worst
                        )
                    )
            if notes:
                page.note(sec, "Attributes furthest from the reference: " + "; ".join(notes) + ".")
