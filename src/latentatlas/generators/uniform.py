"""Uniform points in a cube [-b, b]^N around the origin, or in a union of such cubes."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real

import numpy as np
from scipy import special

from latentatlas.analysis.radii import fit_cube_b
from latentatlas.core.validation import check_points
from latentatlas.generators.base import BaseGenerator


class UniformCube(BaseGenerator):
    """Points with N independent components uniform in [-b, b] (the naive random vectors).

    Parameters
    ----------
    b : float, "auto" or sequence of float
        Half-width of the cube. "auto" fits ``b_`` to the radii of the training points
        (:func:`latentatlas.analysis.fit_cube_b`). A sequence gives a union of cubes (the study's
        growing cubes around the origin): each sample picks one cube uniformly at random.
    n_mc : int
        Monte Carlo points for the "auto" fit.
    random_state : int
        Seed of that Monte Carlo run (fitting is deterministic).
    temperature : float > 0
        Scales samples about the origin: every variance x temperature**2 (see
        :class:`BaseGenerator`); ``score_samples`` follows.

    Attributes
    ----------
    b_ : float or tuple of float
    n_features_in_ : int
    """

    _fitted_scalars = ("b_",)

    def __init__(
        self,
        b: float | str | Sequence[float] = 1.0,
        n_mc: int = 20000,
        random_state: int = 0,
        temperature: float = 1.0,
    ) -> None:
        self.b = b
        self.n_mc = n_mc
        self.random_state = random_state
        self.temperature = temperature

    def fit(self, Z, y=None) -> UniformCube:
        """Learn N (and b when ``b="auto"``) from z-points ``Z`` of shape (n, N)."""
        X = check_points(Z, min_rows=1)
        b = self.b
        if isinstance(b, str):
            if b != "auto":
                raise ValueError(f"b must be a number, 'auto' or a sequence of numbers, got {b!r}")
            r = np.sqrt(np.einsum("ij,ij->i", X, X))
            self.b_ = fit_cube_b(r, X.shape[1], random_state=self.random_state, n_mc=self.n_mc)
        elif isinstance(b, Real):
            self.b_ = _positive(b)
        else:
            try:
                bs = tuple(_positive(v) for v in b)
            except TypeError:
                raise ValueError(f"b must be a number, 'auto' or a sequence, got {b!r}") from None
            if not bs:
                raise ValueError("b must not be an empty sequence")
            self.b_ = bs
        self.n_features_in_ = X.shape[1]
        return self

    def _sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        N = self.n_features_in_
        if isinstance(self.b_, tuple):
            scale = np.asarray(self.b_)[rng.integers(len(self.b_), size=n)]
            return rng.uniform(-1.0, 1.0, size=(n, N)) * scale[:, None]
        return rng.uniform(-self.b_, self.b_, size=(n, N))

    def _center(self) -> np.ndarray:
        return np.zeros(self.n_features_in_)

    def _score_samples(self, X: np.ndarray) -> np.ndarray:
        N = X.shape[1]
        bs = np.atleast_1d(np.asarray(self.b_, dtype=np.float64))
        reach = np.abs(X).max(axis=1)
        # A union of cubes is an equal-weight mixture of uniform densities (2 b)^-N.
        log_density = np.where(reach[:, None] <= bs, -N * np.log(2.0 * bs), -np.inf)
        return special.logsumexp(log_density, axis=1) - np.log(len(bs))

    def _summary(self) -> dict:
        b = self.b_
        # Typical radius of the cube's points: sqrt(N/3) b (a thin shell for large N).
        radius = np.sqrt(self.n_features_in_ / 3.0) * np.asarray(b)
        return {"b": list(b) if isinstance(b, tuple) else b, "typical_radius": radius}

    def _restore(self) -> None:
        # JSON has no tuples: a union of cubes comes back as a list.
        if isinstance(self.b_, list):
            self.b_ = tuple(float(v) for v in self.b_)


def _positive(v) -> float:
    if isinstance(v, str | bytes) or not isinstance(v, Real):
        raise ValueError(f"cube sizes must be positive numbers, got {v!r}")
    f = float(v)
    if not (np.isfinite(f) and f > 0):
        raise ValueError(f"cube sizes must be positive numbers, got {v!r}")
    return f
