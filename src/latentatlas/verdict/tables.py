"""The verdict's tables: for the page, the ranking and, per image judge, every generator next to
the ceiling (decoded train codes against the decoded held-out reference: what a perfect generator
scores) and the floor (noise images); for the terminal, the text ``latentatlas compare`` prints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from latentatlas.core.numbers import fmt, fmt_ci
from latentatlas.verdict.catalogue import BY_KEY, lookup
from latentatlas.verdict.judges import IMAGE_JUDGES
from latentatlas.verdict.ladder import AUTOMATIC
from latentatlas.verdict.ranking import faces_apply, winner_sentence

if TYPE_CHECKING:
    from latentatlas.core.html import Page, Section

# Per feature judge: (key under image.<judge>, short header, full name).
FEATURE_COLUMNS = (
    ("fd", "FD", "Fréchet distance to the reference (lower is better)"),
    ("kid", "KID", "kernel distance (KID as torch-fidelity computes it), ± its standard error"),
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
    skipped = (verdict.get("domain") or {}).get("skipped_judges", [])
    if skipped:
        page.note(sec, f"Not run: {', '.join(skipped)} ({verdict['domain']['reason']}).")
    missing = [j for j in IMAGE_JUDGES if j not in ref["judges"] and j not in skipped]
    if missing:
        page.note(
            sec,
            f"Not run: {', '.join(missing)} (left out with --judges, or not installed: the face "
            "descriptor needs pip install 'latentatlas[judge]', inception, dinov2 and clip their "
            "weights: --feature-weights, see the README).",
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
        if info.get("protocol"):
            page.note(sec, protocol_line(judge, info["protocol"]))
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


def protocol_line(judge: str, protocol: Mapping[str, Any]) -> str:
    """How a feature judge's numbers were made, in one line: feature space, sample counts,
    reference set, resize and (for weights the user brings) the weights' sha256."""
    line = (
        f"{judge} protocol: {protocol['features']} ({protocol['dim']}-d); "
        f"{protocol['n_reference']} reference images ({protocol['reference']}) against "
        f"{protocol['n_generated']} generated; resize: {protocol['resize']}"
    )
    if protocol.get("weights_sha256"):
        line += f"; weights sha256 {protocol['weights_sha256'][:16]}…"
    return line + "."


def verdict_lines(verdict: Mapping[str, Any]) -> list[str]:
    """The verdict as ``latentatlas compare`` prints it: the condition, the degradation ladder's
    checks, the ranking table (ceiling and floor first, then the generators best first, each
    ranking metric with its interval, and the face rate), the winner and the ranking rule."""
    ranking = verdict["ranking"]
    lines = []
    if verdict.get("where"):
        lines.append(
            f"given {verdict['where']}: {verdict['n_train']} train, {verdict['n_heldout']} held out"
        )
    if not faces_apply(verdict):
        lines.append(verdict["domain"]["reason"] + ".")
    if verdict.get("ladder"):
        if verdict["ladder"].get("automatic"):
            lines.append(AUTOMATIC)
        lines.append("degradation ladder (a metric that fails it is not used for ranking):")
        for key, check in verdict["ladder"]["checks"].items():
            why = "passes" if check["passed"] else "FAILS: " + "; ".join(check["failures"])
            lines.append(f"  {BY_KEY[key].label:<32} {why}")
    lines += verdict_table_lines(verdict)
    lines.append(winner_sentence(ranking, verdict["rows"]))
    lines.append(ranking["rule"])
    return lines


def verdict_table_lines(verdict: Mapping[str, Any]) -> list[str]:
    """The ranking as a text table, columns aligned: rank, generator, mean rank, every ranking
    metric with its interval, face rate; the image judges' ceiling and floor first."""
    ranking = verdict["ranking"]
    rows = {r["generator"]: r for r in verdict["rows"]}
    metrics = [BY_KEY[k] for k in ranking["metrics"]]
    ref = verdict.get("image_reference") or {}
    faces = faces_apply(verdict)
    table = [["rank", "generator", "mean rank", *(m.label for m in metrics)]]
    table[0] += ["face rate"] if faces else []
    for label, part in (("ceiling", "ceiling"), ("floor", "floor")):
        if ref:
            table.append(
                ["", label, "", *(fmt(m.value({"image": ref[part]})) for m in metrics)]
                + ([""] if faces else [])
            )
    for name in ranking["order"]:
        r = rows[name]
        mark = f" (= {r['duplicate_of']})" if r.get("duplicate_of") else ""
        table.append(
            [
                str(ranking["ranks"][name]),
                name + mark,
                fmt(ranking["mean_rank"][name]),
                *(fmt_ci(m.value(r), m.interval(r)) for m in metrics),
            ]
            + ([fmt(r["face_rate"])] if faces else [])
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return [
        "  ".join(
            cell.rjust(w) if i != 1 else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in table
    ]
