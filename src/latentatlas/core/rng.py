"""Random-state handling shared by every analysis: same seed, same numbers."""

from __future__ import annotations

import numbers

import numpy as np

RandomState = int | np.random.Generator | None


def as_rng(random_state: RandomState) -> np.random.Generator:
    """A :class:`numpy.random.Generator` from an int seed, a Generator (used as is) or None.

    A Generator is passed through unchanged so a caller can thread one generator through several
    steps; an int always gives the same stream (``np.random.default_rng(seed)``).
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (
        isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
    ):
        return np.random.default_rng(random_state)
    raise ValueError(
        f"random_state must be an int, a numpy Generator or None, got {type(random_state).__name__}"
    )


def stream(seed: int, purpose: int) -> np.random.Generator:
    """The random stream of one ``purpose`` (a small int, named where it is used) under ``seed``.

    Streams of different purposes are independent, so changing how much one step draws (e.g. the
    plot subsample) never changes another's numbers (e.g. the held-out split).
    """
    return np.random.default_rng([int(seed), purpose])


def draw_seed(rng: np.random.Generator) -> int:
    """An int seed drawn from ``rng``, for libraries that want one (scikit-learn, torch): one seed
    then fixes everything downstream."""
    return int(rng.integers(2**31 - 1))


def subsample_indices(n: int, size: int | None, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of a uniform random subset of ``min(size, n)`` of ``range(n)``.

    ``size=None`` (or ``size >= n``) returns all indices without consuming randomness. Sorted so a
    subsample keeps the original order (and memory locality for memory-mapped stores).
    """
    if size is None or size >= n:
        return np.arange(n)
    if size < 1:
        raise ValueError(f"sample size must be at least 1, got {size}")
    return np.sort(rng.choice(n, size=int(size), replace=False))
