"""A Gaussian kernel density estimate on the real points, its bandwidth chosen by held-out
likelihood: the most flexible non-parametric prior, and the one most prone to copying. At high N
it works in the top principal coordinates plus a Gaussian rest."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special

from latentatlas.analysis.gaussian import MahalanobisModel, single_threaded_blas
from latentatlas.core.rng import as_rng
from latentatlas.core.validation import check_fraction, check_points, check_positive
from latentatlas.generators.base import BaseGenerator, summarise_array
from latentatlas.generators.normal import LOG_2PI, frame_coordinates
from latentatlas.generators.subspace import InPrincipalSubspace

__all__ = ["KernelDensity"]

# Query rows per block of the (rows, n) squared-distance matrix: 512 x 9000 float64 is 37 MB.
QUERY_BLOCK = 512
# Bandwidths tried by default, in units of the data's own standard deviation along each axis.
DEFAULT_BANDWIDTHS = tuple(float(h) for h in np.geomspace(0.1, 1.5, 15))


def log_kernel_means(Q: np.ndarray, P: np.ndarray, bandwidths: Sequence[float]) -> np.ndarray:
    """Log of the mean Gaussian kernel between each query row and all points, per bandwidth.

    ``log (1/n) sum_i N(q; p_i, h^2 I)`` evaluated in log space: in 256 dimensions the kernel
    values are around exp(-500), below what sums in linear space can hold (scikit-learn's
    ``KernelDensity`` tree sums disagree with each other by ~100 nats there).

    Parameters
    ----------
    Q : (m, r) queries; P : (n, r) kernel centres; bandwidths : (H,) positive

    Returns
    -------
    ndarray, shape (H, m)
    """
    h = np.asarray(bandwidths, dtype=np.float64)
    r = P.shape[1]
    out = np.empty((len(h), len(Q)))
    p2 = np.einsum("ij,ij->i", P, P)
    norm = -np.log(len(P)) - r * np.log(h) - 0.5 * r * LOG_2PI
    with single_threaded_blas():
        for start in range(0, len(Q), QUERY_BLOCK):
            B = Q[start : start + QUERY_BLOCK]
            d2 = np.maximum(np.einsum("ij,ij->i", B, B)[:, None] + p2 - 2.0 * B @ P.T, 0.0)
            for j, hj in enumerate(h):
                out[j, start : start + len(B)] = special.logsumexp(-d2 / (2 * hj * hj), axis=1)
    return out + norm[:, None]


class KernelDensity(InPrincipalSubspace, BaseGenerator):
    """Gaussian KDE with kernel covariance ``bandwidth^2 * Sigma`` (Sigma: the points' own
    covariance), so one bandwidth fits every axis whatever its scale.

    A sample is a training point plus kernel noise: with a small bandwidth the samples are
    near-copies of training points, which the verdict's copy distance shows.

    Above 1,024 components the kernels live in the top principal coordinates (at most 128,
    chosen by held-out likelihood) and the other directions get an isotropic Gaussian rest
    (:class:`~latentatlas.generators.subspace.InPrincipalSubspace`): the kernel density of the
    n points alone would live on their (n - 1)-dimensional span, where no held-out point lies.
    Then the attributes below are in those coordinates (d = k).

    Parameters
    ----------
    bandwidth : "heldout" or float > 0
        "heldout" picks, from ``bandwidths``, the one with the highest mean log-likelihood of a
        held-out share of the fit points (kernels on the rest), then refits on all points.
    bandwidths : sequence of float, optional
        Candidates (default 15 values from 0.1 to 1.5, log-spaced).
    heldout_fraction : float in (0, 1)
        Share of the fit points held out for the choice.
    random_state : int
        Seed of the held-out split.
    temperature : float > 0
        Scales samples about the mean: every variance x temperature**2 (see
        :class:`BaseGenerator`); ``score_samples`` follows.

    Attributes
    ----------
    mean_ : ndarray, shape (d,)
    axes_ : ndarray, shape (d, r)
        Orthonormal principal axes of the points (r = rank of their covariance).
    variances_ : ndarray, shape (r,)
    points_ : ndarray, shape (n, r)
        The training points in sigma units along ``axes_`` (the kernel centres).
    bandwidth_ : float
    bandwidth_grid_ : ndarray, shape (H,) or (0,)
    heldout_scores_ : ndarray, shape (H,) or (0,)
        Mean held-out log-likelihood per point (nats) for each candidate.
    subspace_mean_, subspace_components_, subspace_noise_variance_
        The principal subspace above 1,024 components (None below).
    n_features_in_ : int
    """

    _fitted_arrays = (
        "mean_",
        "axes_",
        "variances_",
        "points_",
        "bandwidth_grid_",
        "heldout_scores_",
    )
    _fitted_scalars = ("bandwidth_",)

    def __init__(
        self,
        bandwidth: str | float = "heldout",
        bandwidths: Sequence[float] | None = None,
        heldout_fraction: float = 0.1,
        random_state: int = 0,
        temperature: float = 1.0,
    ) -> None:
        self.bandwidth = bandwidth
        self.bandwidths = bandwidths
        self.heldout_fraction = heldout_fraction
        self.random_state = random_state
        self.temperature = temperature

    def fit(self, Z, y=None) -> KernelDensity:
        """Fit to ``Z`` of shape (n, N); n >= 2 (>= 10 to choose the bandwidth)."""
        X = check_points(Z, min_rows=2)
        N = X.shape[1]
        X = self._to_inner(X, random_state=self.random_state)
        model = MahalanobisModel().fit(X)
        if model.rank_ == 0:
            raise ValueError("the points have no variance: a kernel density needs some")
        r = model.rank_
        self.mean_ = model.mean_
        self.variances_ = model.eigenvalues_[:r].copy()
        self.axes_ = np.ascontiguousarray(model.whitening_ * np.sqrt(self.variances_))
        self.points_, _ = frame_coordinates(X, self.mean_, self.axes_, self.variances_)
        if isinstance(self.bandwidth, str):
            if self.bandwidth != "heldout":
                raise ValueError(
                    f"bandwidth must be 'heldout' or a positive number, got {self.bandwidth!r}"
                )
            self._choose_bandwidth()
        else:
            self.bandwidth_ = check_positive(self.bandwidth, "bandwidth", " or 'heldout'")
            self.bandwidth_grid_ = self.heldout_scores_ = np.empty(0)
        self.n_features_in_ = N
        return self

    def _choose_bandwidth(self) -> None:
        grid = np.asarray(
            DEFAULT_BANDWIDTHS if self.bandwidths is None else self.bandwidths, dtype=np.float64
        )
        if grid.ndim != 1 or len(grid) == 0 or not np.all(np.isfinite(grid) & (grid > 0)):
            raise ValueError("bandwidths must be a non-empty sequence of positive numbers")
        frac = check_fraction(self.heldout_fraction, "heldout_fraction")
        n = len(self.points_)
        cut = int(round(frac * n))
        if cut < 1 or n - cut < 1:
            raise ValueError(f"{n} points are too few to hold out {frac:g} of them")
        order = as_rng(self.random_state).permutation(n)
        held, kept = self.points_[order[:cut]], self.points_[order[cut:]]
        self.heldout_scores_ = log_kernel_means(held, kept, grid).mean(axis=1) - 0.5 * np.sum(
            np.log(self.variances_)
        )
        self.bandwidth_grid_ = grid
        self.bandwidth_ = float(grid[int(np.argmax(self.heldout_scores_))])

    def _sample_inner(self, n: int, rng: np.random.Generator) -> np.ndarray:
        centres = self.points_[rng.integers(len(self.points_), size=n)]
        U = centres + self.bandwidth_ * rng.standard_normal(centres.shape)
        return self.mean_ + (U * np.sqrt(self.variances_)) @ self.axes_.T

    def _inner_density_dim(self) -> int:
        return int(len(self.variances_))

    def _score_inner(self, X: np.ndarray) -> np.ndarray:
        U, on_span = frame_coordinates(X, self.mean_, self.axes_, self.variances_)
        out = log_kernel_means(U, self.points_, [self.bandwidth_])[0]
        out -= 0.5 * np.sum(np.log(self.variances_))
        out[~on_span] = -np.inf
        return out

    def _summary(self) -> dict:
        grid = self.bandwidth_grid_
        return {
            "bandwidth": self.bandwidth_,
            "chosen_by": "held-out likelihood" if len(grid) else "given",
            "bandwidth_grid": summarise_array(grid) if len(grid) else None,
            "heldout_loglik_per_dim": (
                float(self.heldout_scores_.max() / self._inner_dim()) if len(grid) else None
            ),
            "n_points": int(len(self.points_)),
            "rank": int(len(self.variances_)),
            **self._subspace_summary(),
        }
