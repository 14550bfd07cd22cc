"""Input validation: every public analysis accepts any ``(n, N)`` array-like and calls this."""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np


def check_points(Z: Any, min_rows: int = 2, name: str = "Z") -> np.ndarray:
    """Validate z-points and return them as a C-contiguous float64 ``(n, N)`` array.

    Parameters
    ----------
    Z : array-like, shape (n, N)
        Points, one per row (a memory-mapped float32 store works; it is converted once).
    min_rows : int
        The fewest rows the caller can work with.
    name : str
        How the array is called in error messages.

    Raises
    ------
    ValueError
        One-line message: not 2-D, not numeric, empty, NaN/inf, or fewer than ``min_rows`` rows.
    """
    try:
        X = np.ascontiguousarray(Z, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric (n, N) array") from None
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (n, N) array, got shape {X.shape}")
    if X.shape[1] == 0:
        raise ValueError(f"{name} has no components (shape {X.shape})")
    if X.shape[0] < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} points, got {X.shape[0]}")
    # Fast path: row sums are finite iff every entry is (barring overflow of huge values, which
    # the exact check below then clears); one pass without an (n, N) boolean temporary.
    if not np.isfinite(X.sum(axis=1)).all():
        finite = np.isfinite(X).all(axis=1)
        if not finite.all():
            row = int(np.flatnonzero(~finite)[0])
            raise ValueError(f"{name} contains NaN or inf (row {row})")
    return X


def check_same_dim(A: np.ndarray, B: np.ndarray, names: tuple[str, str] = ("real", "fake")) -> None:
    """Raise ``ValueError`` unless two point sets have the same number of components."""
    if A.shape[1] != B.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} have different dimensions: {A.shape[1]} vs {B.shape[1]}"
        )


def check_fraction(value: float, name: str, *, low_open: bool = True) -> float:
    """A float in (0, 1] (or [0, 1] with ``low_open=False``), else a one-line ``ValueError``."""
    v = float(value)
    ok = (0.0 < v <= 1.0) if low_open else (0.0 <= v <= 1.0)
    if not ok:
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{name} must lie in {interval}, got {value}")
    return v


def check_positive(value: Any, name: str, unit: str = "") -> float:
    """A finite number > 0 (not a bool, not a string), else a one-line ``ValueError``."""
    if (
        isinstance(value, Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    ):
        return float(value)
    raise ValueError(f"{name} must be a positive number{unit}, got {value!r}")
