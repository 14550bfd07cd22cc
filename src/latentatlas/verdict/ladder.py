"""The known-degradation ladder: its rungs, and the check that a verdict metric responds to them.

Rungs are generators whose order of quality is known in advance, so a verdict metric can be
checked to respond before it is trusted to rank anything. The full-covariance normal fitted to the
real points (mvn) at temperature 1 is the reference. Every rung differs from it in one known way:
its spread (temperature 0.25 ... 1.5: samples scaled about the mean, StyleGAN's truncation psi),
its correlations (only the diagonal of the covariance kept), or its location (the mean moved one
standard deviation along the first principal axis).

The rungs are judged like any generator. A metric passes (:func:`check_ladder`) when

1. temperature 1 scores best: no rung is better with intervals apart;
2. it gets monotonically worse away from temperature 1 on both sides: each rung further out is
   no better than the one before, unless their intervals overlap;
3. it responds at all: the end rungs (0.25 and 1.5) score worse than temperature 1;
4. the diagonal and the shifted versions score worse than mvn.

The Haar face rate fails (1): a collapsed generator decodes to one average face, a face, so
temperatures 0.25 and 0.5 beat temperature 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from latentatlas.generators.base import BaseGenerator
from latentatlas.generators.normal import MultivariateNormal, PerComponentNormal, ShiftedNormal
from latentatlas.verdict.catalogue import METRICS, VerdictMetric, overlap

LADDER_TEMPERATURES: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.5)
DIAGONAL = "mvn-diagonal"
SHIFTED = "mvn-shifted"

# What the page and the printout say when compare ran the ladder without being asked (the
# reference images are not faces).
AUTOMATIC = (
    "The degradation ladder ran automatically: the metrics were shown to respond to it on faces "
    f"only, so on this data each must pass it here to rank ({len(LADDER_TEMPERATURES) + 2} more "
    "rungs, judged like the generators)."
)


def rung_name(temperature: float) -> str:
    """The ladder's name for mvn at ``temperature`` (``mvn@0.25``)."""
    return f"mvn@{temperature:g}"


def degradation_ladder() -> dict[str, BaseGenerator]:
    """Unfitted ladder generators by name, in order: mvn at each of
    :data:`LADDER_TEMPERATURES`, then ``mvn-diagonal`` and ``mvn-shifted``."""
    rungs: dict[str, BaseGenerator] = {
        rung_name(t): MultivariateNormal(temperature=t) for t in LADDER_TEMPERATURES
    }
    rungs[DIAGONAL] = PerComponentNormal()
    rungs[SHIFTED] = ShiftedNormal(shift=1.0, axis=0)
    return rungs


def check_ladder(rows: Mapping[str, Mapping[str, Any]], metric: VerdictMetric) -> dict[str, Any]:
    """The ladder verdict of one metric.

    rows: ladder name (``mvn@0.25`` ... ``mvn-diagonal``, ``mvn-shifted``) -> verdict row.
    Returns ``{"passed": bool, "failures": [str], "values": {name: value}}``; a metric with a
    missing value on any rung fails with that as its reason.
    """
    names = [rung_name(t) for t in LADDER_TEMPERATURES] + [DIAGONAL, SHIFTED]
    values = {n: metric.value(rows[n]) if n in rows else None for n in names}
    missing = [n for n, v in values.items() if v is None]
    if missing:
        failures = [f"no value for {', '.join(missing)}"]
        return {"passed": False, "failures": failures, "values": values}
    bad = {n: metric.badness(values[n]) for n in names}
    ci = {n: metric.badness_interval(rows[n]) for n in names}
    ref = rung_name(1.0)
    failures = []

    def clearly_better(a: str, b: str) -> bool:
        return bad[a] < bad[b] and not overlap(ci[a], ci[b])

    for n in names[: len(LADDER_TEMPERATURES)]:
        if n != ref and clearly_better(n, ref):
            failures.append(f"{n} beats temperature 1")
    below = [rung_name(t) for t in sorted(LADDER_TEMPERATURES, reverse=True) if t <= 1.0]
    above = [rung_name(t) for t in sorted(LADDER_TEMPERATURES) if t >= 1.0]
    for side in (below, above):
        for nearer, further in zip(side, side[1:], strict=False):
            if clearly_better(further, nearer):
                failures.append(f"{further} beats {nearer}")
    for end in (below[-1], above[-1]):
        if end != ref and not bad[end] > bad[ref]:
            failures.append(f"{end} not worse than temperature 1")
    for n in (DIAGONAL, SHIFTED):
        if not bad[n] > bad[ref]:
            failures.append(f"{n} not worse than mvn")
    return {"passed": not failures, "failures": failures, "values": values}


def check_all(
    rows: Mapping[str, Mapping[str, Any]], metrics: Sequence[VerdictMetric] = METRICS
) -> dict[str, dict[str, Any]]:
    """:func:`check_ladder` for every metric that has a value on the reference rung."""
    ref = rows.get(rung_name(1.0), {})
    return {m.key: check_ladder(rows, m) for m in metrics if m.value(ref) is not None}
