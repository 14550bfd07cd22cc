"""The known-degradation ladder: generators whose order of quality is known in advance, so a
verdict metric can be checked to respond before it is trusted to rank anything.

The full-covariance normal fitted to the real points (mvn) at temperature 1 is the reference.
Every rung differs from it in one known way: its spread (temperature 0.25 ... 1.5: samples
scaled about the mean, StyleGAN's truncation psi), its correlations (only the diagonal of the
covariance kept), or its location (the mean moved one standard deviation along the first
principal axis). A metric passes when it puts temperature 1 best, gets monotonically worse away
from it and ranks the diagonal and the shifted versions below mvn (see
:func:`latentatlas.metrics.ladder.check_ladder`).
"""

from __future__ import annotations

from latentatlas.generators.base import BaseGenerator
from latentatlas.generators.normal import MultivariateNormal, PerComponentNormal, ShiftedNormal

LADDER_TEMPERATURES: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.5)
DIAGONAL = "mvn-diagonal"
SHIFTED = "mvn-shifted"


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
