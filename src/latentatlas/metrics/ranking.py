"""The one rule that names the best generator of a verdict (compare, the atlas, the demo).

Face rate alone would crown a collapsed generator: samples shrunk towards the mean (N(0, I) on a
model whose data sits far from the origin, or any generator at temperature 0.1) can still decode
to one average face. The two-sample accuracy is the main key, but it does not always see a
collapse strongly enough: on the bundled model the two-sample MLP tells mvn at temperature 0.1
from real points with accuracy 0.89, *below* the uniform cube's 0.91 (200 samples each). So
collapse is named outright first: a generator whose samples spread less than half as far about
their mean as real points do ranks last, whatever its other numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

RULE = (
    "Rule: collapsed generators (samples' spread about their mean below half the real points') "
    "rank last; the rest by two-sample accuracy's distance from 0.5 (closer = harder to tell "
    "from real z-points); accuracies whose 95 % Wilson intervals overlap the group leader's are "
    "tied and ordered by face rate (share of the detector's ceiling); identical samples tie with "
    "the generator they duplicate."
)

# Spread ratio below which samples count as collapsed: real-vs-real it is 1 up to sampling noise.
COLLAPSE = 0.5


def spread_ratio(z: np.ndarray, real: np.ndarray) -> float:
    """RMS distance of ``z`` to its own mean over the same for ``real`` (1 = as spread as real
    points; N(0, I) on a model whose z-points spread over tens of units scores about 0.1)."""

    def rms(x: np.ndarray) -> float:
        x = np.asarray(x, dtype=np.float64)
        return float(np.sqrt(((x - x.mean(axis=0)) ** 2).sum(axis=1).mean()))

    return rms(z) / rms(real)


_Z95 = 1.959963984540054


def wilson_interval(p: float, n: int, z: float = _Z95) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion ``p`` observed on ``n`` trials.

    Wilson rather than the normal approximation: an accuracy of exactly 1.0 (a collapsed
    generator) still gets an interval of non-zero width.
    """
    if n <= 0:
        return 0.0, 1.0
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def rank_generators(
    rows: Sequence[Mapping[str, Any]], ceiling: float | None, n_classified: int
) -> dict[str, Any]:
    """Order a verdict's rows by :data:`RULE`.

    rows: verdict rows with ``generator``, ``two_sample_accuracy``, ``face_rate`` and optionally
    ``duplicate_of`` and ``two_sample_n`` (points the classifier predicted; default
    ``n_classified``). ceiling: the detector's rate on decoded real points (None: face rate as is).

    Returns ``{"rule", "winner", "order", "ranks", "tied_with_winner", "groups"}``: ``ranks``
    maps each generator to its group's rank (1 = best; tied generators share it), ``order`` lists
    the generators best first. Rows without a two-sample accuracy rank last.
    """
    by_name = {r["generator"]: r for r in rows}
    originals = [r for r in rows if not r.get("duplicate_of") or r["duplicate_of"] not in by_name]

    def distance(r: Mapping[str, Any]) -> float:
        a = r.get("two_sample_accuracy")
        return math.inf if a is None else abs(a - 0.5)

    def collapsed(r: Mapping[str, Any]) -> bool:
        spread = r.get("spread")
        return spread is not None and spread < COLLAPSE

    def interval(r: Mapping[str, Any]) -> tuple[float, float]:
        a = r.get("two_sample_accuracy")
        if a is None:
            return math.inf, math.inf
        return wilson_interval(a, int(r.get("two_sample_n") or n_classified))

    def faces(r: Mapping[str, Any]) -> float:
        rate = r.get("face_rate")
        if rate is None:
            return -1.0
        return rate / ceiling if ceiling else rate

    groups: list[list[Mapping[str, Any]]] = []
    for r in sorted(originals, key=lambda r: (collapsed(r), distance(r))):
        leader = groups[-1][0] if groups else None
        # A group is tied with its leader (its closest-to-0.5 member), so ties never chain on.
        if (
            leader is not None
            and collapsed(leader) == collapsed(r)
            and distance(r) < math.inf
            and _tied(leader, r, interval)
        ):
            groups[-1].append(r)
        else:
            groups.append([r])
    order: list[str] = []
    ranks: dict[str, int] = {}
    named: list[list[str]] = []
    for i, group in enumerate(groups, start=1):
        group.sort(key=lambda r: (-faces(r), distance(r)))
        names = []
        for r in group:
            names.append(r["generator"])
            names += [d["generator"] for d in rows if d.get("duplicate_of") == r["generator"]]
        for name in names:
            ranks[name] = i
        order += names
        named.append(names)
    winner = order[0] if order else None
    return {
        "rule": RULE,
        "collapsed": [name for name in order if collapsed(by_name[name])],
        "winner": winner,
        "order": order,
        "ranks": ranks,
        "tied_with_winner": named[0][1:] if named else [],
        "groups": named,
    }


def _tied(leader: Mapping[str, Any], r: Mapping[str, Any], interval) -> bool:
    # Intervals of |a - 0.5| would fold a = 0.45 onto 0.55: compare on the leader's side of 0.5,
    # mirroring r's interval when the two sit on opposite sides.
    lo, hi = interval(r)
    a_leader = leader["two_sample_accuracy"]
    if (r["two_sample_accuracy"] - 0.5) * (a_leader - 0.5) < 0:
        lo, hi = 1 - hi, 1 - lo
    return _overlap(interval(leader), (lo, hi))


def n_classified(verdict: Mapping[str, Any]) -> int:
    """Points the two-sample classifier predicted per generator: both classes, each subsampled
    to the smaller of the samples and the held-out points."""
    return 2 * min(int(verdict["n"]), int(verdict["n_heldout"]))


def rank_verdict(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`rank_generators` on a verdict as ``compare`` writes it (or ``load_verdict`` reads)."""
    return rank_generators(
        verdict["rows"], verdict["detector"].get("reconstructions"), n_classified(verdict)
    )


def winner_sentence(ranking: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> str:
    """One line naming the winner, its key numbers and any ties (the rule goes next to it)."""
    if ranking["winner"] is None:
        return "No generator to rank."
    row = next(r for r in rows if r["generator"] == ranking["winner"])
    acc, rate = row.get("two_sample_accuracy"), row.get("face_rate")
    text = f"Best generator: {ranking['winner']}"
    numbers = []
    if acc is not None:
        numbers.append(f"two-sample accuracy {acc:.3g}")
    if rate is not None:
        numbers.append(f"face rate {rate:.1%}")
    if numbers:
        text += f" ({', '.join(numbers)})"
    tied = ranking["tied_with_winner"]
    if tied:
        text += f"; tied with {', '.join(tied)}"
    return text + "."
