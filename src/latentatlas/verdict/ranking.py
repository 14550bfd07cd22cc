"""The one rule that names the best generator of a verdict (compare, the atlas, the demo).

Face rate alone would crown a collapsed generator: samples shrunk towards the mean (N(0, I) on a
model whose data sits far from the origin, or any generator at temperature 0.1) can still decode
to one average face, and the Haar face rate fails the degradation ladder for that reason. So
collapse is named outright first: a generator whose samples spread less than half as far about
their mean as real points do ranks last, whatever its other numbers. The rest are ranked on every
*ranking metric* (calibrated numbers, each with a 95 % interval, each shown to respond to the
degradation ladder on this kind of data: :func:`candidate_metrics`) and ordered by their mean
rank, the usual way to combine metrics on different scales without weighting them.
Any single metric saturates somewhere (the z two-sample accuracy cannot tell mvn from pca; a
Fréchet distance on z cannot reject mvn at all); together they separate more, and ties are named
where no metric separates two generators beyond its interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from latentatlas.metrics.intervals import wilson_interval
from latentatlas.verdict.catalogue import METRICS, VerdictMetric, overlap, present

RULE = (
    "Rule: collapsed generators (samples' spread about their mean below half the real points') "
    "rank last; the ranking metrics are those shown to respond to the degradation ladder on this "
    "kind of data: on faces, the z two-sample accuracy and MMD² and the attribute CNN's Fréchet "
    "distance and two-sample accuracy (checked on the bundled CelebA model) unless this "
    "verdict's own ladder run fails them, and any domain-agnostic image metric (the image CNN "
    "two-sample test, standard feature spaces) that this run passes; on other data, where the "
    "face judges do not apply and compare runs the ladder itself, only the z and domain-agnostic "
    "image metrics that pass this verdict's own ladder run; on each ranking metric a "
    "generator's rank is 1 + the number of generators better than it with "
    "95 % intervals apart; the order is by mean rank over the metrics (ties broken by the mean "
    "of plain ranks); a generator whose intervals overlap the group leader's on every ranking "
    "metric is tied with it; identical samples tie with the generator they duplicate."
)

RANKING_METRICS: tuple[VerdictMetric, ...] = tuple(m for m in METRICS if m.ranking)

__all__ = [
    "COLLAPSE",
    "NAIVE",
    "RANKING_METRICS",
    "RULE",
    "candidate_metrics",
    "faces_apply",
    "rank_generators",
    "rank_verdict",
    "spread_ratio",
    "margin_sentence",
    "wilson_interval",
    "winner_sentence",
]

# Spread ratio below which samples count as collapsed: real-vs-real it is 1 up to sampling noise.
COLLAPSE = 0.5


def spread_ratio(z: np.ndarray, real: np.ndarray) -> float:
    """RMS distance of ``z`` to its own mean over the same for ``real`` (1 = as spread as real
    points; N(0, I) on a model whose z-points spread over tens of units scores about 0.1)."""

    def rms(x: np.ndarray) -> float:
        x = np.asarray(x, dtype=np.float64)
        return float(np.sqrt(((x - x.mean(axis=0)) ** 2).sum(axis=1).mean()))

    return rms(z) / rms(real)


def rank_generators(
    rows: Sequence[Mapping[str, Any]],
    metrics: Sequence[VerdictMetric] | None = None,
) -> dict[str, Any]:
    """Order a verdict's rows by :data:`RULE`.

    rows: verdict rows with ``generator``, ``spread``, optionally ``duplicate_of``, and the
    metrics' values and ``_ci`` intervals. metrics: the candidates (default: the catalogue's
    ranking metrics; :func:`candidate_metrics` gives a verdict's); those missing from any
    non-collapsed row are not used.

    Returns ``{"rule", "metrics", "winner", "order", "ranks", "mean_rank", "tied_with_winner",
    "groups", "collapsed"}``: ``metrics`` lists the keys used, ``ranks`` maps each generator to
    its group's rank (1 = best; tied generators share it), ``order`` lists the generators best
    first.
    """
    by_name = {r["generator"]: r for r in rows}
    originals = [r for r in rows if not r.get("duplicate_of") or r["duplicate_of"] not in by_name]

    def collapsed(r: Mapping[str, Any]) -> bool:
        spread = r.get("spread")
        return spread is not None and spread < COLLAPSE

    candidates = RANKING_METRICS if metrics is None else metrics
    used = present([r for r in originals if not collapsed(r)] or originals, candidates)
    mean_rank = dict.fromkeys((r["generator"] for r in originals), 0.0)
    plain = dict.fromkeys(mean_rank, 0.0)
    for m in used:
        bad = [m.badness(v) if (v := m.value(r)) is not None else math.inf for r in originals]
        ci = [m.badness_interval(r) or (math.inf, math.inf) for r in originals]
        for i, r in enumerate(originals):
            beaten_by = sum(
                1 for j in range(len(originals)) if bad[j] < bad[i] and ci[j][1] < ci[i][0]
            )
            mean_rank[r["generator"]] += (1 + beaten_by) / len(used)
        for r, rank in zip(originals, stats.rankdata(bad, method="average"), strict=True):
            plain[r["generator"]] += float(rank) / len(used)

    def tied(leader: Mapping[str, Any], r: Mapping[str, Any]) -> bool:
        for m in used:
            a, b = m.badness_interval(leader), m.badness_interval(r)
            if a is None or b is None or not overlap(a, b):
                return False
        return True

    groups: list[list[Mapping[str, Any]]] = []

    def key(r: Mapping[str, Any]) -> tuple:
        return collapsed(r), mean_rank[r["generator"]], plain[r["generator"]]

    for r in sorted(originals, key=key):
        leader = groups[-1][0] if groups else None
        # A group is tied with its leader (its best member), so ties never chain on.
        if leader is not None and collapsed(leader) == collapsed(r) and tied(leader, r):
            groups[-1].append(r)
        else:
            groups.append([r])
    order: list[str] = []
    ranks: dict[str, int] = {}
    named: list[list[str]] = []
    for i, group in enumerate(groups, start=1):
        names = []
        for r in group:
            names.append(r["generator"])
            names += [d["generator"] for d in rows if d.get("duplicate_of") == r["generator"]]
        for name in names:
            ranks[name] = i
        order += names
        named.append(names)
    for name in order:
        if name not in mean_rank:  # a duplicate scores what its original scores
            mean_rank[name] = mean_rank[by_name[name]["duplicate_of"]]
    return {
        "rule": RULE,
        "metrics": [m.key for m in used],
        "collapsed": [name for name in order if collapsed(by_name[name])],
        "winner": order[0] if order else None,
        "order": order,
        "ranks": ranks,
        "mean_rank": {name: round(mean_rank[name], 3) for name in order},
        "tied_with_winner": named[0][1:] if named else [],
        "groups": named,
    }


def candidate_metrics(
    faces: bool, checks: Mapping[str, Mapping[str, Any]] | None = None
) -> list[VerdictMetric]:
    """The metrics :data:`RULE` ranks by: ``faces``, whether the reference images are faces
    (a verdict's ``domain``); ``checks``, the verdict's own ladder checks (metric key ->
    ``{"passed": bool}``), if it ran one.

    On faces: the ``ranking`` metrics (checked on the bundled CelebA model) unless this ladder run
    fails them, and the ``if_validated`` ones it passes. On other data: only the ``ranking`` and
    ``if_validated`` metrics that this ladder run passes, never a face metric: a metric shown to
    respond on faces has not been shown to respond on digits."""
    checks = checks or {}
    passed = {key for key, c in checks.items() if c["passed"]}
    out = []
    for m in METRICS:
        if m.face and not faces:
            continue
        if m.key in passed and (m.ranking or m.if_validated):
            out.append(m)
        elif faces and m.ranking and m.key not in checks:
            out.append(m)
    return out


def faces_apply(verdict: Mapping[str, Any]) -> bool:
    """Whether the verdict's reference images are faces, so that the face rate and the face
    judges apply (a verdict written before the check existed was made on faces)."""
    return bool((verdict.get("domain") or {}).get("faces", True))


def rank_verdict(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`rank_generators` on a verdict as ``compare`` writes it (or ``load_verdict`` reads)
    over :func:`candidate_metrics` of its domain (a verdict without one was made on faces) and its
    own ladder run, if it has one."""
    checks = (verdict.get("ladder") or {}).get("checks", {})
    return rank_generators(verdict["rows"], candidate_metrics(faces_apply(verdict), checks))


def winner_sentence(ranking: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> str:
    """One line naming the winner, its key numbers and any ties (the rule goes next to it)."""
    if ranking["winner"] is None:
        return "No generator to rank."
    winner = ranking["winner"]
    used = ranking.get("metrics", [])
    text = f"Best generator: {winner}"
    if used:
        text += f" (mean rank {ranking['mean_rank'][winner]:.3g} over {len(used)} metrics)"
    elif len(ranking["order"]) > 1:
        text += " (no metric passed the degradation ladder on this data: only collapse ranks)"
    tied = ranking["tied_with_winner"]
    if tied:
        text += f"; tied with {', '.join(tied)}"
    return text + "."


# The generator the winner is measured against when the verdict has it: the uniform cube, the
# naive prior whose failure the study is about.
NAIVE = "cube"


def margin_sentence(ranking: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> str:
    """By how much the winner wins, in one number anyone can read: how well a classifier tells
    its samples from held-out real points, next to the same for the cube (else the last-ranked
    generator). Empty when there is nothing to compare."""
    by_name = {r["generator"]: r for r in rows}
    winner = ranking["winner"]

    def accuracy(name: str) -> float | None:
        value = by_name[name].get("two_sample_accuracy")
        return None if value is None or not math.isfinite(value) else float(value)

    if winner is None or accuracy(winner) is None:
        return ""
    others = [
        g
        for g in reversed(ranking["order"])
        if g != winner and not by_name[g].get("duplicate_of") and accuracy(g) is not None
    ]
    if not others:
        return ""
    foil = NAIVE if NAIVE in others else others[0]
    return (
        f"A classifier tells {winner}'s samples from held-out real points at accuracy "
        f"{accuracy(winner):.2f}, {foil}'s at {accuracy(foil):.2f} (0.50: cannot tell them "
        "apart, 1.00: always can)."
    )
