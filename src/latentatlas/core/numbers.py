"""How every page and printout shows a number (one helper, so a table and a sentence agree)."""

from __future__ import annotations

import math
from typing import Any


def fmt(value: Any, digits: int = 3) -> str:
    """A number as every page and printout shows it: 3 significant digits, no exponent between
    1e-4 and 1e5 (so a cell never wraps "5.078e-04"), ints exact, None as a dash."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        if value == 0:
            return "0"
        return f"{value:.{digits}g}"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(fmt(v, digits) for v in value) + ")"
    return str(value)


def fmt_ci(value: Any, ci: Any = None, digits: int = 3) -> str:
    """``value`` with its 95 % interval's half-width, ``0.047 ±0.0053`` (the page's compact form;
    verdict.json keeps both ends of the interval)."""
    if value is None or ci is None:
        return fmt(value, digits)
    return f"{fmt(value, digits)} ±{fmt((float(ci[1]) - float(ci[0])) / 2.0, 2)}"
