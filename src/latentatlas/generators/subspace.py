"""Top principal coordinates plus a Gaussian rest: how the mixture, the kernel density and the
learned priors work on z-points of thousands of components.

Above :data:`~latentatlas.analysis.ppca.HIGH_N` components a generator using
:class:`InPrincipalSubspace` is fitted to the points' top k principal coordinates (k chosen by
held-out likelihood, :class:`~latentatlas.analysis.ppca.LowRankGaussian`, at most
:data:`MAX_COMPONENTS`), and the N - k other directions get that model's isotropic Gaussian
rest: a sample is ``mean + c @ components + sigma * e`` with ``c`` drawn by the generator and
``e`` standard normal orthogonal to the k axes, and the log-density adds the rest's. Below it
nothing changes (the generator sees the points themselves).
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from latentatlas.analysis.gaussian import single_threaded_blas
from latentatlas.analysis.ppca import HIGH_N, LowRankGaussian
from latentatlas.generators.normal import LOG_2PI

__all__ = ["MAX_COMPONENTS", "InPrincipalSubspace"]

# The most principal coordinates a generator sees at high N (a mixture's full covariances and a
# flow's autoregressive passes grow with it; held-out likelihood usually picks fewer).
MAX_COMPONENTS = 128


class InPrincipalSubspace:
    """Mixin for a :class:`~latentatlas.generators.base.BaseGenerator`: the subclass implements
    ``_sample_inner(n, rng) -> (n, d)`` and ``_score_inner(C) -> (n,)`` over the coordinates it
    was fitted on (d = k at high N, else N), calls :meth:`_to_inner` on the points in ``fit``
    and, if its centre is not ``mean_``, overrides ``_inner_center``.

    Attributes (fitted, None below the threshold)
    ---------------------------------------------
    subspace_mean_ : (N,)
    subspace_components_ : (k, N) orthonormal rows
    subspace_noise_variance_ : 0-d array, the rest's variance per direction
    """

    _optional_arrays: ClassVar[tuple[str, ...]] = (
        "subspace_mean_",
        "subspace_components_",
        "subspace_noise_variance_",
    )
    subspace_mean_: np.ndarray | None
    subspace_components_: np.ndarray | None
    subspace_noise_variance_: np.ndarray | None

    def _to_inner(self, X: np.ndarray, random_state: int = 0) -> np.ndarray:
        """Fit the subspace when N is above the threshold and return the points' coordinates
        (n, k) in it; below it return ``X`` unchanged."""
        self.subspace_mean_ = self.subspace_components_ = self.subspace_noise_variance_ = None
        if X.shape[1] <= HIGH_N:
            return X
        model = LowRankGaussian(max_components=MAX_COMPONENTS, random_state=random_state).fit(X)
        if model.rank_ == 0:
            # Held-out likelihood preferred pure noise: keep the largest axis for the generator.
            model = LowRankGaussian(n_components=1).fit(X)
        self.subspace_mean_ = model.mean_
        self.subspace_components_ = model.components_
        self.subspace_noise_variance_ = np.asarray(model.noise_variance_)
        return self._coordinates(X)

    def _in_subspace(self) -> bool:
        return getattr(self, "subspace_components_", None) is not None

    def _inner_dim(self) -> int:
        """Dimension the generator itself works in (k, or N below the threshold)."""
        if self._in_subspace():
            return int(self.subspace_components_.shape[0])
        return int(self.n_features_in_)

    def _coordinates(self, X: np.ndarray) -> np.ndarray:
        with single_threaded_blas():
            return (X - self.subspace_mean_) @ self.subspace_components_.T

    def _inner_points(self, X: np.ndarray) -> np.ndarray:
        """What the generator itself sees of points (n, N): their coordinates, or them."""
        return self._coordinates(X) if self._in_subspace() else X

    def _lift(self, C: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
        """Points (n, N) from coordinates (n, k), plus the Gaussian rest when ``rng`` is given."""
        V = self.subspace_components_
        with single_threaded_blas():
            X = self.subspace_mean_ + C @ V
            if rng is not None:
                e = rng.standard_normal((len(C), V.shape[1]))
                e -= (e @ V.T) @ V
                X += math.sqrt(float(self.subspace_noise_variance_)) * e
        return X

    def _rest_logpdf(self, X: np.ndarray, C: np.ndarray) -> np.ndarray:
        D = X - self.subspace_mean_
        rest = np.maximum(np.einsum("ij,ij->i", D, D) - np.einsum("ij,ij->i", C, C), 0.0)
        m = X.shape[1] - C.shape[1]
        s2 = float(self.subspace_noise_variance_)
        return -0.5 * (rest / s2 + m * (LOG_2PI + math.log(s2)))

    # -- what BaseGenerator calls -----------------------------------------------------------------

    def _sample_inner(self, n: int, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _score_inner(self, C: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _inner_center(self) -> np.ndarray:
        return self.mean_

    def _sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        C = self._sample_inner(n, rng)
        return self._lift(C, rng) if self._in_subspace() else C

    def _score_samples(self, X: np.ndarray) -> np.ndarray:
        if not self._in_subspace():
            return self._score_inner(X)
        C = self._coordinates(X)
        return self._score_inner(C) + self._rest_logpdf(X, C)

    def _center(self) -> np.ndarray:
        c = self._inner_center()
        return self._lift(c[None, :], None)[0] if self._in_subspace() else c

    def _density_dim(self) -> int:
        inner = self._inner_density_dim()
        if self._in_subspace():
            return inner + int(self.n_features_in_) - self._inner_dim()
        return inner

    def _inner_density_dim(self) -> int:
        return self._inner_dim()

    def _subspace_summary(self) -> dict:
        if not self._in_subspace():
            return {}
        return {
            "subspace": {
                "n_components": self._inner_dim(),
                "noise_variance": float(self.subspace_noise_variance_),
                "chosen_by": "held-out likelihood",
            }
        }
