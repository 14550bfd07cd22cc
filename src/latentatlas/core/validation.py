"""Input validation: every public analysis accepts any ``(n, N)`` array-like and calls
:func:`check_points`; every image judge checks its image batches with :func:`check_images`;
work whose memory grows with an option is estimated before it starts (:func:`check_memory`)."""

from __future__ import annotations

import math
import os
from numbers import Real
from typing import Any

import numpy as np

from latentatlas.core.errors import LatentAtlasError


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


def check_images(
    images: Any,
    what: str = "images",
    *,
    grey: bool = False,
    square: bool = False,
    min_side: int = 0,
    array_only: bool = False,
    error: type[Exception] = ValueError,
) -> np.ndarray:
    """Validate a batch of uint8 RGB images ``(n, H, W, 3)`` and return it as an array.

    Parameters
    ----------
    images : array-like
        The images (an array is returned as is, not copied).
    what : str
        How the images are called in error messages.
    grey : bool
        Also accept grey images, ``(n, H, W, 1)`` or ``(n, H, W)``.
    square : bool
        Require H = W.
    min_side : int
        The smallest H and W accepted.
    array_only : bool
        Refuse anything but a numpy array (for callers that go on with ``images`` itself).
    error : exception type
        What to raise, with a one-line message: wrong shape, then not uint8, then too small.
    """
    shapes = "(n, H, W, 3), (n, H, W, 1) or (n, H, W)" if grey else "(n, H, W, 3)"
    kind = ("square " if square else "") + ("RGB or grey" if grey else "RGB")
    expected = f"{kind} images {shapes}" + (" with H = W" if square else "")
    if array_only and not isinstance(images, np.ndarray):
        raise error(f"{what} must be {expected}, got shape {getattr(images, 'shape', None)}")
    arr = np.asarray(images)
    shape_ok = (arr.ndim == 4 and arr.shape[3] == 3) or (
        grey and (arr.ndim == 3 or (arr.ndim == 4 and arr.shape[3] == 1))
    )
    if not shape_ok or (square and arr.shape[1] != arr.shape[2]):
        raise error(f"{what} must be {expected}, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise error(
            f"{what} must be uint8 images (0..255), got {arr.dtype}; convert floats in [0, 1] "
            "with (np.clip(x, 0, 1) * 255).round().astype(np.uint8)"
        )
    height, width = arr.shape[1], arr.shape[2]
    if min(height, width) < min_side:
        raise error(
            f"{what} are too small: {height}x{width} px, at least {min_side}x{min_side} needed"
        )
    return arr


def available_memory() -> int:
    """Bytes of memory this machine can give a new allocation (Linux's MemAvailable; else the
    physical memory)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_memory(nbytes: float, what: str, advice: str) -> None:
    """Refuse, before any work, work estimated to need ``nbytes`` of memory when the machine
    has less available: one line naming ``what`` and the option to lower (``advice``)."""
    free = available_memory()
    if nbytes > free:
        raise LatentAtlasError(
            f"{what} needs about {nbytes / 2**30:.3g} GiB of memory, {free / 2**30:.3g} GiB is "
            f"available; {advice}"
        )
