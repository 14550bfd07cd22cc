"""Does a verdict metric respond to known degradations? The ladder check.

Rows are verdict rows of the ladder of :mod:`latentatlas.generators.ladder` (mvn at temperatures
0.25 ... 1.5, mvn with only its diagonal, mvn shifted 1 sigma along the first principal axis),
judged like any generator. A metric passes when

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

from latentatlas.generators.ladder import DIAGONAL, LADDER_TEMPERATURES, SHIFTED, rung_name
from latentatlas.metrics.catalogue import METRICS, VerdictMetric, overlap


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
