"""The low-rank-plus-diagonal Gaussian (probabilistic PCA, Tipping & Bishop 1999) for z-points
whose full N x N covariance would not fit in memory, or is rank-deficient (n <= N).

The covariance is ``V diag(lambda) V^T + sigma^2 (I - V V^T)``: the top q principal axes ``V``
keep their sample variances ``lambda``, every other direction shares the remaining variance
``sigma^2`` (its maximum-likelihood value). The rank q is chosen by the likelihood of a held-out
share of the points. Fitting never forms an N x N matrix when n <= N (the n x n Gram matrix
gives the axes) or above :data:`EXACT_MAX_FEATURES` (randomized SVD); sampling, log-density and
Mahalanobis distances cost O(n N q). BLAS runs on one thread here: these thin products were 20x
slower threaded on the busy 2-core machine (0.6 s against 0.03 s for 40 x 4,096 @ 4,096 x 159).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import NotFittedError

from latentatlas.analysis.gaussian import (
    BLOCK_ROWS,
    MahalanobisModel,
    gram_matrix,
    gram_spectrum,
    ledoit_wolf_shrinkage,
    mean_covariance,
    randomized_eigenpairs,
    single_threaded_blas,
)
from latentatlas.core.rng import RandomState, as_rng, stream
from latentatlas.core.validation import check_fraction, check_points

__all__ = [
    "EXACT_MAX_FEATURES",
    "HIGH_N",
    "MAX_RANDOMIZED_COMPONENTS",
    "TOP_AXES",
    "LowRankGaussian",
    "PrincipalFrame",
    "gaussian_model",
    "ledoit_wolf_shrinkage_gram",
    "lowrank_log_det",
    "lowrank_logpdf",
    "lowrank_mahalanobis_sq",
    "principal_frame",
]

# Above this many components (and with fewer points than components) a full N x N covariance is
# not formed by the generators, the verdict's Gaussian features or the explorer: N = 1,024 is an
# 8 MB covariance and a 0.4 s eigen-decomposition, N = 4,096 already 128 MB and ~25 s.
HIGH_N = 1024
# Up to this N (with n > N) the principal axes come from the exact covariance eigen-decomposition;
# above it from a randomized SVD (N = 2,048: 3 s single-threaded; 4,096: ~25 s).
EXACT_MAX_FEATURES = 2048
# The axes a randomized SVD computes (each costs a few passes of O(n N) over the points; at
# 4,500 x 4,096 the covariance and its eigen-decomposition cost about as much as 512 would).
MAX_RANDOMIZED_COMPONENTS = 256
# Power iterations of that randomized route (analysis.gaussian.randomized_eigenpairs): 4 matched
# or beat scikit-learn's randomized_svd(n_iter=4) on every top-256 eigenvalue of a power-law
# spectrum (3,000 x 1,200: largest relative error 0.066 against 0.10; 3 gave 0.09 but a worse mean).
RANDOMIZED_N_ITER = 4
# The principal axes the explorer and ``latentatlas path --frame principal`` keep above HIGH_N.
TOP_AXES = 256
LOG_2PI = math.log(2.0 * math.pi)
HOLDOUT_STREAM = 31  # stream purpose (core.rng.stream): the rank's held-out split


@dataclass(frozen=True)
class PrincipalFrame:
    """The principal axes of a point cloud.

    Attributes
    ----------
    mean : (N,)
    axes : (N, r) orthonormal columns, by decreasing variance
    variances : (r,) their sample variances (ddof = 1), > 0
    total_variance : float
        The trace of the sample covariance (all N directions).
    exact : bool
        False when the axes come from a randomized SVD (the top ones only).
    """

    mean: np.ndarray
    axes: np.ndarray
    variances: np.ndarray
    total_variance: float
    exact: bool


def _row_sq_norms(D: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", D, D)


def principal_frame(
    X: np.ndarray, max_components: int | None = None, random_state: RandomState = 0
) -> PrincipalFrame:
    """The top principal axes of the rows of ``X`` without an N x N matrix where avoidable.

    n <= N: from the n x n Gram matrix of the centred points (exact, O(n^2 N));
    n > N <= :data:`EXACT_MAX_FEATURES`: from the covariance eigen-decomposition (exact);
    otherwise a randomized SVD (seeded) of the top ``max_components`` (at most
    :data:`MAX_RANDOMIZED_COMPONENTS`). The decomposition of the last few arrays is kept by
    content, so fitting several models to the same points decomposes them once.

    Parameters
    ----------
    X : (n, N) float64, n >= 2
    max_components : int, optional
        Keep at most this many axes (default: every axis of non-zero variance).
    random_state : int or Generator
        Seeds the randomized SVD (unused by the exact routes).

    Returns
    -------
    PrincipalFrame
        Axes of numerically zero variance (below ``N * eps`` of the largest) are dropped.
    """
    n, N = X.shape
    spec = _spectrum(X, random_state)
    k = len(spec.variances) if max_components is None else int(max_components)
    variances = spec.variances[:k]
    if spec.gram:
        # Only the axes asked for: N x n of them would be 1 GB at 2,000 x 65,536.
        with single_threaded_blas():
            axes = ((X - spec.mean).T @ spec.vectors[:, :k]) / np.sqrt(variances * (n - 1))
    else:
        axes = spec.vectors[:, :k]
    # Copies: the cached spectrum is shared, and fitted attributes may be changed in place.
    mean = spec.mean.copy()
    return PrincipalFrame(mean, np.array(axes), variances.copy(), spec.total, spec.exact)


@dataclass(frozen=True)
class _Spectrum:
    """The principal variances of a point cloud and either the Gram matrix's eigenvectors
    (``gram``: (n, r)) or the axes themselves ((N, r))."""

    gram: bool
    mean: np.ndarray
    total: float
    variances: np.ndarray
    vectors: np.ndarray
    exact: bool


# The last few spectra by content: compare fits mvn, pca, gmm, kde, a prior and the Mahalanobis
# tail on the same train points, each with the same held-out split; one decomposition serves all.
_SPECTRA: OrderedDict[tuple, _Spectrum] = OrderedDict()
_SPECTRA_LOCK = threading.Lock()
SPECTRA_CACHED = 4


def _spectrum(X: np.ndarray, random_state: RandomState) -> _Spectrum:
    n, N = X.shape
    randomized = n > N > EXACT_MAX_FEATURES
    seed = int(as_rng(random_state).integers(2**31 - 1)) if randomized else 0
    X = np.ascontiguousarray(X)
    key = (X.shape, hashlib.blake2b(X, digest_size=20).digest(), seed)
    with _SPECTRA_LOCK:
        if key in _SPECTRA:
            _SPECTRA.move_to_end(key)
            return _SPECTRA[key]
    spec = _decompose(X, seed if randomized else None)
    with _SPECTRA_LOCK:
        _SPECTRA[key] = spec
        while len(_SPECTRA) > SPECTRA_CACHED:
            _SPECTRA.popitem(last=False)
    return spec


def _decompose(X: np.ndarray, seed: int | None) -> _Spectrum:
    """Every non-zero principal variance (descending) and its vector: from the n x n Gram matrix
    (n <= N), the covariance (N <= EXACT_MAX_FEATURES), or a randomized SVD (``seed``)."""
    n, N = X.shape
    mean = X.mean(axis=0)
    with single_threaded_blas():
        if n <= N:
            total = float(_row_sq_norms(X - mean).sum()) / (n - 1)
            evals, vecs, _ = gram_spectrum(X, mean)
            exact, gram = True, True
        elif seed is None:
            _, cov = mean_covariance(X)
            total = float(np.trace(cov))
            evals, vecs = np.linalg.eigh(cov)
            evals, vecs = evals[::-1] * (n - 1), vecs[:, ::-1]
            exact, gram = True, False
        else:
            total = float(_row_sq_norms(X - mean).sum()) / (n - 1)
            k = min(n - 1, N, MAX_RANDOMIZED_COMPONENTS)
            evals, vecs = randomized_eigenpairs(X, mean, k, RANDOMIZED_N_ITER, seed)
            evals = evals * (n - 1)  # sums of squares, as the exact routes'
            exact, gram = False, False
    keep = _kept(evals, N)
    variances, vecs = evals[keep] / (n - 1), np.ascontiguousarray(vecs[:, keep])
    for a in (mean, variances, vecs):
        a.flags.writeable = False
    return _Spectrum(gram, mean, total, variances, vecs, exact)


def _kept(evals: np.ndarray, N: int) -> np.ndarray:
    """Indices of the eigenvalues (descending) above ``N * eps`` of the largest."""
    top = max(float(evals[0]), 0.0)
    return np.flatnonzero(evals > top * N * np.finfo(np.float64).eps)


def _noise_variances(total: float, variances: np.ndarray, N: int) -> np.ndarray:
    """``sigma^2`` for every rank q = 0..r: the variance left outside the top q axes, shared by
    the N - q other directions (``nan`` where nothing is left: q = N, or rounding below 0)."""
    q = np.arange(len(variances) + 1)
    left = total - np.r_[0.0, np.cumsum(variances)]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = left / (N - q)
    floor = 1e-12 * max(total / N, np.finfo(np.float64).tiny)
    return np.where((N - q > 0) & (out > floor), out, np.nan)


def _heldout_loglik(
    X_fit: np.ndarray, X: np.ndarray, cap: int | None, random_state: RandomState
) -> np.ndarray:
    """Mean log-density of the rows of ``X`` under the PPCA model fitted to ``X_fit`` at every
    rank q = 0..r (``-inf`` where that rank has no noise variance). With n <= N the held-out
    projections come from the cross-Gram matrix, never forming the N x r axes."""
    n, N = X_fit.shape
    spec = _spectrum(X_fit, random_state)
    r = len(spec.variances) if cap is None else min(int(cap), len(spec.variances))
    mean, lam, total = spec.mean, spec.variances[:r], spec.total
    if spec.gram:
        centred = X_fit - mean
        to_axes = spec.vectors[:, :r] / np.sqrt(lam * (n - 1))

        def project(H: np.ndarray) -> np.ndarray:
            return (H @ centred.T) @ to_axes
    else:

        def project(H: np.ndarray) -> np.ndarray:
            return H @ spec.vectors[:, :r]

    sigma2 = _noise_variances(total, lam, N)
    out = np.zeros(len(lam) + 1)
    for start in range(0, len(X), BLOCK_ROWS):
        D = X[start : start + BLOCK_ROWS] - mean
        with single_threaded_blas():
            P2 = project(D) ** 2
        s = _row_sq_norms(D)
        inside = np.c_[np.zeros(len(D)), np.cumsum(P2, axis=1)]  # ||P_q||^2, per rank
        scaled = np.c_[np.zeros(len(D)), np.cumsum(P2 / lam, axis=1)]
        with np.errstate(invalid="ignore"):
            quad = scaled + (s[:, None] - inside) / sigma2
        out += quad.sum(axis=0)
    q = np.arange(len(lam) + 1)
    logdet = np.r_[0.0, np.cumsum(np.log(lam))] + (N - q) * np.log(sigma2)
    ll = -0.5 * (N * LOG_2PI + logdet + out / len(X))
    return np.where(np.isfinite(ll), ll, -np.inf)


class LowRankGaussian:
    """A Gaussian with covariance ``V diag(lambda) V^T + sigma^2 (I - V V^T)`` (probabilistic
    PCA), fitted to z-points of any N.

    Parameters
    ----------
    n_components : "heldout" or int
        The rank q. "heldout": fit the principal axes on ``1 - heldout_fraction`` of the points,
        evaluate the held-out points' mean log-likelihood at every rank 0..r (one pass), keep the
        best, then refit on all points. An int is capped at what the points support.
    heldout_fraction : float in (0, 1)
    max_components : int, optional
        The largest rank considered.
    random_state : int
        Seeds the held-out split and any randomized SVD.

    Attributes
    ----------
    mean_ : (N,)
    components_ : (q, N)
        Orthonormal principal axes (rows), by decreasing variance.
    explained_variance_ : (q,)
        Their sample variances (ddof = 1).
    noise_variance_ : float
        ``sigma^2``, the variance of every other direction.
    rank_ : int
        q.
    heldout_loglik_ : (r + 1,) or (0,)
        Mean held-out log-likelihood per point at ranks 0..r ("heldout" only; ``-inf`` where
        undefined).
    exact_ : bool
        Whether the axes are exact (False: randomized SVD).
    n_features_in_ : int
    """

    def __init__(
        self,
        n_components: int | str = "heldout",
        heldout_fraction: float = 0.2,
        max_components: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.n_components = n_components
        self.heldout_fraction = heldout_fraction
        self.max_components = max_components
        self.random_state = random_state

    def fit(self, Z) -> LowRankGaussian:
        """Fit to ``Z`` of shape (n, N): n >= 2 with an int rank, n >= 5 for "heldout"."""
        X = check_points(Z, min_rows=2)
        n, N = X.shape
        cap = self.max_components
        self.heldout_loglik_ = np.empty(0)
        if isinstance(self.n_components, str):
            if self.n_components != "heldout":
                raise ValueError(
                    f"n_components must be 'heldout' or a positive int, got {self.n_components!r}"
                )
            frac = check_fraction(self.heldout_fraction, "heldout_fraction")
            cut = int(round(frac * n))
            if cut < 1 or n - cut < 3:
                raise ValueError(f"{n} points are too few to hold out {frac:g} of them")
            order = stream(int(self.random_state), HOLDOUT_STREAM).permutation(n)
            self.heldout_loglik_ = _heldout_loglik(
                X[order[cut:]], X[order[:cut]], cap, self.random_state
            )
            q = int(np.argmax(self.heldout_loglik_))
        else:
            q = self.n_components
            if isinstance(q, bool) or not isinstance(q, int | np.integer) or q < 0:
                raise ValueError(f"n_components must be 'heldout' or an int >= 0, got {q!r}")
            q = min(int(q), N - 1) if cap is None else min(int(q), int(cap), N - 1)
        frame = principal_frame(X, max(q, 1), self.random_state)
        sigma2 = _noise_variances(frame.total_variance, frame.variances, N)
        # The points may support fewer axes than asked (rank, or noise left on the rest).
        q = min(q, len(frame.variances))
        while q > 0 and not np.isfinite(sigma2[q]):
            q -= 1
        if not np.isfinite(sigma2[q]):
            raise ValueError("the points have no variance: there is no Gaussian to fit")
        self.mean_ = frame.mean
        self.components_ = np.ascontiguousarray(frame.axes[:, :q].T)
        self.explained_variance_ = frame.variances[:q].copy()
        self.noise_variance_ = float(sigma2[q])
        self.rank_ = q
        self.exact_ = bool(frame.exact)
        self.n_features_in_ = N
        return self

    def _check(self, X) -> np.ndarray:
        if not hasattr(self, "components_"):
            raise NotFittedError("LowRankGaussian is not fitted yet: call fit(Z) first")
        X = check_points(np.atleast_2d(X), min_rows=1, name="X")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} components, the model was fitted on {self.n_features_in_}"
            )
        return X

    def log_det(self) -> float:
        """Log-determinant of the covariance."""
        return lowrank_log_det(self.explained_variance_, self.noise_variance_, self.n_features_in_)

    def mahalanobis_sq(self, X) -> np.ndarray:
        """``(m,)`` squared Mahalanobis distances of the rows of ``X`` (m, N), in row blocks."""
        X = self._check(X)
        return lowrank_mahalanobis_sq(
            X, self.mean_, self.components_, self.explained_variance_, self.noise_variance_
        )

    def distance(self, X) -> np.ndarray:
        """``(m,)`` Mahalanobis distances (as :meth:`MahalanobisModel.distance`)."""
        return np.sqrt(self.mahalanobis_sq(X))

    def logpdf(self, X) -> np.ndarray:
        """``(m,)`` log-density at the rows of ``X`` (m, N)."""
        X = self._check(X)
        return lowrank_logpdf(
            X, self.mean_, self.components_, self.explained_variance_, self.noise_variance_
        )

    def factor(self) -> np.ndarray:
        """``(N, q)`` ``W`` with ``W W^T + sigma^2 I`` the covariance: the axes scaled by
        ``sqrt(lambda - sigma^2)``."""
        lift = np.sqrt(np.maximum(self.explained_variance_ - self.noise_variance_, 0.0))
        return np.ascontiguousarray(self.components_.T * lift)

    def sample(self, n: int, random_state: RandomState = None) -> np.ndarray:
        """``(n, N)`` points: ``mean + W e + sigma e'`` with standard normal e (q) and e' (N)."""
        self._check(self.mean_)
        rng = as_rng(random_state)
        e = rng.standard_normal((n, self.rank_))
        noise = rng.standard_normal((n, self.n_features_in_))
        with single_threaded_blas():
            X = self.mean_ + e @ self.factor().T
        return X + math.sqrt(self.noise_variance_) * noise


def gaussian_model(Z) -> MahalanobisModel | LowRankGaussian:
    """The Gaussian whose Mahalanobis distances (``.distance(X)``) the verdict and the explorer
    use: :class:`MahalanobisModel` (full covariance) up to :data:`HIGH_N` components, above it
    :class:`LowRankGaussian` (rank by held-out likelihood)."""
    X = check_points(Z, min_rows=2)
    if X.shape[1] <= HIGH_N:
        return MahalanobisModel().fit(X)
    return LowRankGaussian().fit(X)


def lowrank_log_det(variances: np.ndarray, noise_variance: float, N: int) -> float:
    """Log-determinant of ``V diag(variances) V^T + noise_variance (I - V V^T)`` in N dims."""
    return float(np.sum(np.log(variances)) + (N - len(variances)) * np.log(noise_variance))


def lowrank_mahalanobis_sq(
    X: np.ndarray,
    mean: np.ndarray,
    components: np.ndarray,
    variances: np.ndarray,
    noise_variance: float,
) -> np.ndarray:
    """Squared Mahalanobis distances under the low-rank-plus-diagonal covariance, O(m N q).

    Parameters
    ----------
    X : (m, N); mean : (N,); components : (q, N) orthonormal rows; variances : (q,) > 0;
    noise_variance : float > 0

    Returns
    -------
    ndarray, shape (m,)
    """
    out = np.empty(len(X))
    for start in range(0, len(X), BLOCK_ROWS):
        D = X[start : start + BLOCK_ROWS] - mean
        with single_threaded_blas():
            P2 = (D @ components.T) ** 2
        rest = np.maximum(_row_sq_norms(D) - P2.sum(axis=1), 0.0)
        out[start : start + len(D)] = (P2 / variances).sum(axis=1) + rest / noise_variance
    return out


def lowrank_logpdf(
    X: np.ndarray,
    mean: np.ndarray,
    components: np.ndarray,
    variances: np.ndarray,
    noise_variance: float,
) -> np.ndarray:
    """``(m,)`` Gaussian log-density under the low-rank-plus-diagonal covariance (shapes as in
    :func:`lowrank_mahalanobis_sq`)."""
    N = X.shape[1]
    d2 = lowrank_mahalanobis_sq(X, mean, components, variances, noise_variance)
    return -0.5 * (N * LOG_2PI + lowrank_log_det(variances, noise_variance, N) + d2)


def ledoit_wolf_shrinkage_gram(X: np.ndarray) -> float:
    """The Ledoit-Wolf shrinkage intensity of :func:`sklearn.covariance.ledoit_wolf_shrinkage`,
    computed from the n x n Gram matrix: O(n^2 N) time and memory O(n^2) instead of O(n N^2).

    Parameters
    ----------
    X : (n, N), n >= 2 (centred here)

    Returns
    -------
    float in [0, 1]; equal to scikit-learn's up to rounding.
    """
    n, N = X.shape
    G = gram_matrix(X, X.mean(axis=0))
    r2 = np.diag(G)  # |x_i - mean|^2
    trace, sq = float(r2.sum()) / n, float(np.vdot(G, G)) / n**2
    return ledoit_wolf_shrinkage(trace, sq, float(r2 @ r2), N, n)
