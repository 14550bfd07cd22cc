"""Sampling in the PCA frame of the real points, inside an ellipsoid of chosen Mahalanobis
radius."""

from __future__ import annotations

import math
import re
from numbers import Real

import numpy as np
from scipy import special

from latentatlas.analysis._validate import check_points
from latentatlas.analysis.gaussian import BLOCK_ROWS, MahalanobisModel
from latentatlas.generators.base import BaseGenerator, summarise_array

__all__ = ["PCAEllipsoid"]

# Below this acceptance rate the rejection sampler refuses at fit time (> 1000 draws per point).
MIN_ACCEPTANCE = 1e-3
# Largest block of candidate coordinates drawn at once (entries; 4M float64 = 32 MB).
MAX_BLOCK_ENTRIES = 1 << 22
_QUANTILE = re.compile(r"q(\d+(?:\.\d*)?)")


def _parse_limit(limit) -> tuple[float | None, float | None]:
    """``(quantile, radius)``: "q99" -> (0.99, None), 3.0 -> (None, 3.0), None -> (None, None)."""
    if limit is None:
        return None, None
    if isinstance(limit, str):
        m = _QUANTILE.fullmatch(limit)
        q = float(m.group(1)) / 100.0 if m else -1.0
        if not 0.0 < q <= 1.0:
            raise ValueError(
                f"limit must be 'qP' (a percentile 0 < P <= 100, e.g. 'q99'), a positive radius "
                f"or None, got {limit!r}"
            )
        return q, None
    if (
        isinstance(limit, Real)
        and not isinstance(limit, bool)
        and math.isfinite(limit)
        and limit > 0
    ):
        return None, float(limit)
    raise ValueError(f"limit must be 'qP' (e.g. 'q99'), a positive radius or None, got {limit!r}")


class PCAEllipsoid(BaseGenerator):
    """Points drawn in the PCA frame of the real points, inside an ellipsoid, mapped back.

    In the frame of the covariance eigenvectors a point is ``u * sqrt(eigenvalue)`` per axis;
    ``||u||`` is its Mahalanobis radius (in sigma units). Points are drawn with
    ``||u|| <= limit`` and mapped back by ``mean_ + (u * sqrt(explained_variance_)) @
    components_``.

    The study sampled "within ellipse limits" in the PCA frame without saying more; the default
    here is its natural reading, a normal in the PCA frame cut at the radius that holds 99 % of the
    real points (``distribution="normal", limit="q99"``). ``distribution="uniform"`` fills the
    ellipsoid uniformly instead; in k dimensions the volume, hence the points, sit close to the
    boundary (radius ``limit * U**(1/k)``: median ``0.997 * limit`` for k = 256), i.e. on the
    outermost shell of the real points rather than in their bulk.

    Parameters
    ----------
    limit : "qP", float or None
        Radius of the ellipsoid in sigma units. "qP" (default "q99") is the P-th percentile of
        the real points' own Mahalanobis radii (in the frame of the kept axes); a float is an
        explicit radius; None means no limit (only with ``distribution="normal"``).
    distribution : "normal" or "uniform"
        "normal": standard normal coordinates, points beyond ``limit`` rejected and redrawn
        (vectorised batches sized by the exact acceptance rate ``P(chi2_k <= limit^2)``; fit
        refuses a limit that accepts less than 0.1 %). "uniform": uniform in the ellipsoid
        (uniform direction times ``limit * U**(1/k)``).
    n_components : int or None
        Number k of top axes sampled; the other coordinates stay at the mean. None keeps every
        axis of non-zero variance (at most n - 1 when n <= N); larger values are capped there.

    Attributes
    ----------
    mean_ : ndarray, shape (N,)
    components_ : ndarray, shape (k, N)
        Orthonormal PCA axes (rows), by decreasing variance.
    explained_variance_ : ndarray, shape (k,)
        Covariance eigenvalues (ddof = 1) of those axes.
    explained_variance_ratio_ : float
        Their share of the total variance.
    n_components_ : int
        k.
    limit_ : float or None
        The radius used.
    acceptance_ : float
        Share of normal draws kept (1.0 for "uniform" or no limit).
    real_inside_ : float
        Share of the training points within ``limit_`` (0.99 for "q99", up to ties).
    limit_quantile_ : float or None
        The percentile behind ``limit_`` as a fraction (0.99 for "q99"), None otherwise.
    n_features_in_ : int
    """

    _fitted_arrays = ("mean_", "components_", "explained_variance_")
    _fitted_scalars = (
        "explained_variance_ratio_",
        "n_components_",
        "limit_",
        "acceptance_",
        "real_inside_",
        "limit_quantile_",
    )

    def __init__(
        self,
        limit: str | float | None = "q99",
        distribution: str = "normal",
        n_components: int | None = None,
    ) -> None:
        self.limit = limit
        self.distribution = distribution
        self.n_components = n_components

    def fit(self, Z, y=None) -> PCAEllipsoid:
        """Fit the PCA frame and the limit to ``Z`` of shape (n, N), n >= 2."""
        if self.distribution not in ("normal", "uniform"):
            raise ValueError(
                f"distribution must be 'normal' or 'uniform', got {self.distribution!r}"
            )
        quantile, radius = _parse_limit(self.limit)
        if quantile is None and radius is None and self.distribution == "uniform":
            raise ValueError("distribution='uniform' needs a limit (a radius or 'qP')")
        X = check_points(Z, min_rows=2)
        N = X.shape[1]
        k = self.n_components
        if k is not None and (
            isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= N
        ):
            raise ValueError(f"n_components must be None or an int in [1, {N}], got {k!r}")

        model = MahalanobisModel().fit(X)
        if model.rank_ == 0:
            raise ValueError("the points have no variance: there is no PCA frame to sample in")
        k = model.rank_ if k is None else min(int(k), model.rank_)
        sd = np.sqrt(model.eigenvalues_[:k])
        # whitening_ = eigenvectors / sqrt(eigenvalues), descending: undo the scaling for axes.
        self.components_ = np.ascontiguousarray((model.whitening_[:, :k] * sd).T)
        self.explained_variance_ = model.eigenvalues_[:k].copy()
        self.explained_variance_ratio_ = float(
            self.explained_variance_.sum() / model.eigenvalues_.sum()
        )
        self.mean_ = model.mean_
        self.n_components_ = k
        self.limit_quantile_ = quantile

        if quantile is None and radius is None:
            self.limit_, self.real_inside_ = None, 1.0
        else:
            r = model.distances_ if k == model.rank_ else _radii(X, model, k)
            self.limit_ = float(np.quantile(r, quantile)) if radius is None else radius
            self.real_inside_ = float(np.mean(r <= self.limit_))
        if self.limit_ is None or self.distribution == "uniform":
            self.acceptance_ = 1.0
        else:
            # P(||u|| <= limit) for u ~ N(0, I_k): the chi-square CDF, exact.
            self.acceptance_ = float(special.gammainc(k / 2.0, self.limit_**2 / 2.0))
            if self.acceptance_ < MIN_ACCEPTANCE:
                raise ValueError(
                    f"limit {self.limit_:.4g} keeps only {self.acceptance_:.2e} of normal draws "
                    f"in {k} dimensions (a normal's radius is about sqrt(k) = "
                    f"{math.sqrt(k):.3g}): use a larger limit or distribution='uniform'"
                )
        self.n_features_in_ = N
        return self

    def _sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        k = self.n_components_
        if self.distribution == "uniform":
            u = rng.standard_normal((n, k))
            norms = np.sqrt(np.einsum("ij,ij->i", u, u))
            radius = self.limit_ * rng.random(n) ** (1.0 / k)
            u *= (radius / np.maximum(norms, np.finfo(np.float64).tiny))[:, None]
        elif self.limit_ is None:
            u = rng.standard_normal((n, k))
        else:
            u = self._truncated_normal(n, rng)
        return self.mean_ + (u * np.sqrt(self.explained_variance_)) @ self.components_

    def _truncated_normal(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``(n, k)`` standard normal rows with norm <= ``limit_``, by batched rejection."""
        k, p, r2 = self.n_components_, self.acceptance_, self.limit_**2
        out = np.empty((n, k))
        filled, drawn = 0, 0
        # A safety net only: with p >= MIN_ACCEPTANCE, exceeding 10x the expected draws does not
        # happen in practice.
        max_draws = 10 * math.ceil(n / p) + 1024
        max_rows = max(1, MAX_BLOCK_ENTRIES // k)
        while filled < n:
            need = n - filled
            # 10 % more than expected plus a few, so one batch nearly always suffices.
            m = min(math.ceil(need / p * 1.1) + 16, max_rows)
            u = rng.standard_normal((m, k))
            ok = u[np.einsum("ij,ij->i", u, u) <= r2][:need]
            out[filled : filled + len(ok)] = ok
            filled += len(ok)
            drawn += m
            if filled < n and drawn > max_draws:
                raise RuntimeError(
                    f"rejection sampling drew {drawn} candidates for {filled}/{n} points "
                    f"(expected acceptance {p:.3g})"
                )
        return out

    def _summary(self) -> dict:
        return {
            "distribution": self.distribution,
            "n_components": self.n_components_,
            "limit": self.limit_,
            "limit_quantile": self.limit_quantile_,
            "acceptance": self.acceptance_,
            "real_inside": self.real_inside_,
            "explained_variance_ratio": self.explained_variance_ratio_,
            "explained_variance": summarise_array(self.explained_variance_),
            "mean_norm": np.linalg.norm(self.mean_),
        }


def _radii(X: np.ndarray, model: MahalanobisModel, k: int) -> np.ndarray:
    """Mahalanobis radii of the rows of ``X`` in the frame of the top ``k`` axes, in blocks."""
    W = model.whitening_[:, :k]
    out = np.empty(X.shape[0])
    for start in range(0, X.shape[0], BLOCK_ROWS):
        Y = (X[start : start + BLOCK_ROWS] - model.mean_) @ W
        out[start : start + len(Y)] = np.sqrt(np.einsum("ij,ij->i", Y, Y))
    return out
