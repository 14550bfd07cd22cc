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
