"""Gaussian summaries of a point cloud: blocked mean/covariance and Mahalanobis distances, at any
latent dimension N.

The covariance is held in spectral form (mean, leading eigenpairs, one variance for the rest), so
the same model covers three regimes, chosen by size:

- ``n > N`` and ``N <= DENSE_MAX_N``: the dense ``(N, N)`` covariance and its full
  eigen-decomposition;
- ``n <= N``, or ``N > DENSE_MAX_N`` and ``n <= GRAM_MAX_N``: the ``(n, n)`` Gram matrix of the
  centred points, whose eigenpairs are exactly the covariance's non-zero ones (the rest are
  zero);
- ``N > DENSE_MAX_N`` and ``n`` large: the top ``RANDOMIZED_RANK`` eigenpairs by randomized
  subspace iteration over row blocks, the rest as one isotropic variance (probabilistic PCA).

When ``n <= N`` the sample covariance is singular (rank n - 1 at most): distances then use the
Ledoit–Wolf shrinkage estimate ``(1 - d) S + d (tr S / N) I`` (as ``sklearn.covariance.LedoitWolf``,
computed from the spectrum, never as an (N, N) matrix), which is well conditioned.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError
from threadpoolctl import threadpool_limits

from latentatlas.analysis.blockstats import (
    BLOCK_BYTES,
    DENSE_MAX_N,
    LocalDriver,
    StoreStatistics,
    as_rows,
    block_rows,
    mahalanobis_distances,
    store_statistics,
)
from latentatlas.core.rng import as_rng

# Rows per block at N = 256 (kept for callers that block at that size; see block_rows for any N).
BLOCK_ROWS = 8192
# Above DENSE_MAX_N, the Gram route is used while n is at most this (an (n, n) eigh).
GRAM_MAX_N = 8192
# Leading eigenpairs kept by the randomized route, and its power iterations.
RANDOMIZED_RANK = 256
RANDOMIZED_ITER = 2

METHODS = {
    "dense": "dense covariance, full eigen-decomposition",
    "gram": "Gram matrix of the centred points (exact non-zero spectrum)",
    "randomized": f"randomized top-{RANDOMIZED_RANK} eigenpairs, isotropic rest (PPCA)",
}
ESTIMATORS = {
    "sample": "sample covariance (pseudo-inverse on the data's span)",
    "ledoit-wolf": "Ledoit–Wolf shrinkage (the sample covariance of n <= N points is singular)",
    "ppca": "probabilistic PCA: leading eigenpairs plus one variance for the other directions",
}


def single_threaded_blas():
    """Context manager running BLAS/LAPACK on one thread.

    Used for the O(n N^2) symmetric rank-k updates of a covariance and for N x N
    eigen-decompositions: OpenBLAS's threaded versions of these are barely faster on idle
    cores and 5-10x *slower* when the cores are busy (measured on the 2-core target machine),
    while one thread does a (200000, 256) covariance in well under a second.
    """
    return threadpool_limits(limits=1, user_api="blas")


def mean_covariance(
    X: np.ndarray, ddof: int = 1, columns: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of the rows of ``X``, accumulated in row blocks.

    Parameters
    ----------
    X : ndarray, shape (n, N), float32 or float64 (a memory-mapped store works: one block at a
        time is converted to float64)
    ddof : int
        Delta degrees of freedom (1: unbiased, 0: maximum likelihood).
    columns : index array, optional
        Only these components (the result then has ``len(columns)`` of them).

    Returns
    -------
    mean : ndarray, shape (N,)
    cov : ndarray, shape (N, N)
        Exactly symmetric. Two passes (mean first, then centred products) for accuracy; never
        allocates a centred copy of the whole array.
    """
    n, N = X.shape
    cols = slice(None) if columns is None else np.asarray(columns)
    N = N if columns is None else len(cols)
    step = block_rows(X.shape[1])

    def block(start: int) -> np.ndarray:
        return np.asarray(X[start : start + step][:, cols], dtype=np.float64)

    mean = np.zeros(N)
    for start in range(0, n, step):
        mean += block(start).sum(axis=0)
    mean /= n
    cov = np.zeros((N, N))
    with single_threaded_blas():
        for start in range(0, n, step):
            B = block(start) - mean
            cov += B.T @ B  # numpy dispatches A.T @ A to a symmetric rank-k update
    cov /= max(n - ddof, 1)
    cov = 0.5 * (cov + cov.T)
    return mean, cov


def _whitening(cov: np.ndarray, rtol: float | None) -> tuple[np.ndarray, np.ndarray, int]:
    """Eigen-decomposition based pseudo-inverse square root of a covariance matrix.

    Returns ``(W, eigenvalues_descending, rank)`` with ``W`` of shape (N, rank) such that
    ``W @ W.T`` is the Moore–Penrose pseudo-inverse: directions with (numerically) zero variance
    are dropped instead of blowing up, so a rank-deficient covariance (n <= N, constant or
    collinear components) still gives finite distances within the data's span.
    """
    with single_threaded_blas():
        evals, evecs = np.linalg.eigh(cov)
    evals, evecs = evals[::-1], evecs[:, ::-1]
    rank = _rank(evals, cov.shape[0], rtol)
    W = evecs[:, :rank] / np.sqrt(evals[:rank])
    return W, np.clip(evals, 0.0, None), rank


def _rank(evals_desc: np.ndarray, N: int, rtol: float | None) -> int:
    top = max(float(evals_desc[0]), 0.0) if len(evals_desc) else 0.0
    tol = top * (N * np.finfo(np.float64).eps if rtol is None else rtol)
    return int((evals_desc > tol).sum())


def _fingerprint(X: np.ndarray) -> tuple:
    """A cheap identity check for "the same points": shape plus the sum of ~64 spread rows."""
    step = max(1, X.shape[0] // 64)
    return X.shape, float(np.asarray(X[::step], dtype=np.float64).sum())


def _column_blocks(X: np.ndarray, mean: np.ndarray):
    """Centred float64 column blocks ``(n, w)`` of ``X`` with their column slices."""
    n, N = X.shape
    w = max(1, BLOCK_BYTES // (8 * max(n, 1)))
    for c in range(0, N, w):
        yield slice(c, c + w), np.asarray(X[:, c : c + w], dtype=np.float64) - mean[c : c + w]


def gram_matrix(X: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """The (n, n) Gram matrix of the centred rows of ``X`` (n, N), read in column blocks."""
    n = X.shape[0]
    G = np.zeros((n, n))
    with single_threaded_blas():
        for _, B in _column_blocks(X, mean):
            G += B @ B.T
    return G


def gram_spectrum(X: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eigenvalues (descending; the covariance's times n - 1) and eigenvectors (n, n) of the Gram
    matrix of the centred rows of ``X``, and its diagonal ``|x - mean|^2``."""
    G = gram_matrix(X, mean)
    with single_threaded_blas():
        mu, V = np.linalg.eigh(G)
    return mu[::-1], V[:, ::-1], np.diag(G).copy()


def gram_eigenpairs(X: np.ndarray, mean: np.ndarray, rtol: float | None = None) -> tuple:
    """Non-zero eigenpairs of the sample covariance of ``X`` (n, N) through its (n, n) Gram matrix.

    Returns ``(eigenvalues, vectors, row_sq, coords)``: unbiased eigenvalues (descending, the
    non-zero ones), their eigenvectors (N, r), the squared norms ``|x - mean|^2`` of the rows and
    their coordinates along the eigenvectors (n, r). O(n^2 N) time, O(n^2 + r N) memory, the
    points read in column blocks.
    """
    n = X.shape[0]
    mu, V, row_sq = gram_spectrum(X, mean)
    r = _rank(mu, X.shape[1], rtol)
    coords = V[:, :r] * np.sqrt(mu[:r])  # X_c = coords @ U.T: the SVD read from the Gram side
    V = V[:, :r] / np.sqrt(mu[:r])
    U = np.empty((X.shape[1], r))
    with single_threaded_blas():
        for cols, B in _column_blocks(X, mean):
            U[cols] = B.T @ V
    return mu[:r] / max(n - 1, 1), U, row_sq, coords


def randomized_eigenpairs(
    X: np.ndarray, mean: np.ndarray, k: int, n_iter: int = RANDOMIZED_ITER, random_state: Any = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` eigenpairs of the sample covariance of ``X`` by randomized subspace iteration
    (Halko, Martinsson & Tropp 2011), each product with the covariance one pass over row blocks:
    no (N, N) matrix, no centred copy of ``X``. Returns unbiased eigenvalues (descending) and
    eigenvectors (N, k)."""
    n, N = X.shape
    k = min(int(k), N)
    p = min(N - k, 16)  # oversampling

    def cov_times(Q: np.ndarray) -> np.ndarray:
        out = np.zeros_like(Q)
        step = block_rows(N)
        for start in range(0, n, step):
            B = np.asarray(X[start : start + step], dtype=np.float64) - mean
            out += B.T @ (B @ Q)
        return out / max(n - 1, 1)

    with single_threaded_blas():
        Q = as_rng(random_state).standard_normal((N, k + p))
        for _ in range(n_iter + 1):
            Q, _ = np.linalg.qr(cov_times(Q))
        T = Q.T @ cov_times(Q)
        evals, W = np.linalg.eigh(0.5 * (T + T.T))
    evals, W = evals[::-1][:k], W[:, ::-1][:, :k]
    return np.clip(evals, 0.0, None), Q @ W


def ledoit_wolf_shrinkage(trace: float, sq: float, sum_r4: float, N: int, n: int) -> float:
    """Ledoit–Wolf shrinkage intensity from the maximum-likelihood covariance ``S``'s trace, its
    ``sq = sum_ij S_ij^2`` and ``sum_r4`` = sum over points of ``|x - mean|^4``.

    The same number as ``sklearn.covariance.ledoit_wolf_shrinkage`` (on centred points) without
    the (N, N) matrix: ``trace`` and ``sq`` are the sum and the sum of squares of its eigenvalues,
    or ``tr G / n`` and ``|G|_F^2 / n^2`` from the Gram matrix ``G`` (then ``sum_r4`` is the sum
    of ``diag(G)^2``).
    """
    mu = trace / N
    delta = sq / N - mu * mu
    beta = min((sum_r4 / n - sq) / (N * n), delta)
    return 0.0 if beta <= 0 or delta <= 0 else float(beta / delta)


class MahalanobisModel:
    """Gaussian fit (mean, covariance) of z-points and the Mahalanobis distance it induces.

    Parameters
    ----------
    rtol : float, optional
        Eigenvalues below ``rtol * largest`` count as zero (default ``N * machine epsilon``, as in
        ``numpy.linalg.matrix_rank``).

    Attributes
    ----------
    mean_ : ndarray, shape (N,)
    eigenvalues_ : ndarray, shape (k,)
        Sample-covariance eigenvalues (unbiased), descending, clipped at 0: all N with the dense
        method, the non-zero ones (Gram), the top ``RANDOMIZED_RANK`` (randomized).
    eigenvectors_ : ndarray, shape (N, k)
    total_variance_ : float
        Trace of the sample covariance (exact in every method).
    rank_ : int
        Number of eigen-directions with non-zero variance.
    whitening_ : ndarray, shape (N, rank_)
        ``(x - mean_) @ whitening_`` has identity covariance on the data's span (pseudo-inverse).
    method_, estimator_ : str
        Keys of ``METHODS`` and ``ESTIMATORS``: how the spectrum was computed, which covariance
        the distances use.
    shrinkage_ : float
        Ledoit–Wolf intensity (0 unless ``estimator_ == "ledoit-wolf"``).
    covariance_, precision_ : ndarray, shape (N, N)
        Unbiased sample covariance and its pseudo-inverse (only when ``N <= DENSE_MAX_N``).
    distances_ : ndarray, shape (n,)
        Mahalanobis distances of the fitted points (reused by the analyses that take ``model``).
    n_features_in_, n_samples_fit_ : int
    """

    def __init__(self, rtol: float | None = None) -> None:
        self.rtol = rtol

    def fit(
        self,
        Z,
        *,
        statistics: StoreStatistics | None = None,
        driver: Any = None,
        random_state: Any = 0,
    ) -> MahalanobisModel:
        """Fit to ``Z`` of shape (n, N), n >= 2 (float32 / memory-mapped arrays are read in blocks).

        ``statistics`` (of ``Z``, from :func:`~latentatlas.analysis.blockstats.store_statistics`)
        spares the moment passes; ``driver`` computes the distances of the fitted points (e.g. on
        a Dask cluster); ``random_state`` seeds the randomized method.
        """
        X = as_rows(Z, min_rows=2)
        n, N = X.shape
        if statistics is None:
            statistics = store_statistics(LocalDriver(X), covariance=N <= DENSE_MAX_N)
        self.mean_ = statistics.mean
        self.total_variance_ = float(statistics.m2.sum() * n / max(n - 1, 1))
        self._cov = statistics.covariance
        fitted = None  # squared norms and coordinates of the fitted points, when known already
        if N <= DENSE_MAX_N and n > N:
            self.method_ = "dense"
            if self._cov is None:
                self._cov = mean_covariance(X)[1]
            with single_threaded_blas():
                evals, vecs = np.linalg.eigh(self._cov)
            self.eigenvalues_ = np.clip(evals[::-1], 0.0, None)
            self.eigenvectors_ = vecs[:, ::-1]
        elif n <= N or n <= GRAM_MAX_N:
            self.method_ = "gram"
            self.eigenvalues_, self.eigenvectors_, *fitted = gram_eigenpairs(
                X, self.mean_, self.rtol
            )
        else:
            self.method_ = "randomized"
            self.eigenvalues_, self.eigenvectors_ = randomized_eigenpairs(
                X, self.mean_, RANDOMIZED_RANK, random_state=random_state
            )
        self.rank_ = _rank(self.eigenvalues_, N, self.rtol)
        self.whitening_ = self.eigenvectors_[:, : self.rank_] / np.sqrt(
            self.eigenvalues_[: self.rank_]
        )
        self._scales(n, N, statistics.sum_r4)
        self.n_features_in_ = N
        self.n_samples_fit_ = n
        self._fingerprint = _fingerprint(X)
        if fitted is not None and self._inv is not None:
            self.distances_ = np.sqrt(self._d2(*fitted))  # no pass over the points
        elif driver is not None:
            self.distances_ = mahalanobis_distances(driver, self)
        else:
            self.distances_ = self.distance(X)
        return self

    def _d2(self, row_sq: np.ndarray, C: np.ndarray) -> np.ndarray:
        """Squared distances from squared centred norms and coordinates along eigenvectors_."""
        C2 = C * C
        d2 = C2 @ self._inv
        if self._inv_rest:
            d2 += np.maximum(row_sq - C2.sum(axis=1), 0.0) * self._inv_rest
        return np.maximum(d2, 0.0)

    def _scales(self, n: int, N: int, sum_r4: float) -> None:
        """The variances the distances divide by: one per kept direction, one for the rest."""
        k = len(self.eigenvalues_)
        self.shrinkage_ = 0.0
        rest = 0.0  # variance of the directions outside eigenvectors_ (none when k = N)
        if n <= N and self.method_ != "randomized":
            self.estimator_ = "ledoit-wolf"
            eig_ml = self.eigenvalues_ * (n - 1) / n
            trace = float(eig_ml.sum())
            d = ledoit_wolf_shrinkage(trace, float(eig_ml @ eig_ml), sum_r4, N, n)
            mu = trace / N
            self.shrinkage_ = d
            variances = (1.0 - d) * eig_ml + d * mu
            rest = d * mu
        elif self.method_ == "randomized":
            self.estimator_ = "ppca"
            variances = self.eigenvalues_
            rest = max(self.total_variance_ - float(self.eigenvalues_.sum()), 0.0) / max(N - k, 1)
        else:
            self.estimator_ = "sample"
            variances = None  # the pseudo-inverse: whitening_ alone
        if variances is None:
            self._inv = None
        else:
            self._inv = np.where(variances > 0, 1.0 / np.where(variances > 0, variances, 1.0), 0.0)
        self._inv_rest = 1.0 / rest if rest > 0 and k < N else 0.0

    @property
    def rank_deficient_(self) -> bool:
        """Whether the sample covariance is singular (rank below N)."""
        return self.rank_ < self.n_features_in_

    @property
    def has_covariance(self) -> bool:
        """Whether the dense ``covariance_`` exists (N <= DENSE_MAX_N)."""
        return self._cov is not None and len(self._cov) == self.n_features_in_

    @property
    def covariance_(self) -> np.ndarray:
        if not self.has_covariance:
            raise ValueError(
                f"no dense covariance at N = {self.n_features_in_} (above {DENSE_MAX_N}); "
                "use eigenvalues_ / eigenvectors_"
            )
        return self._cov

    @property
    def precision_(self) -> np.ndarray:
        self.covariance_  # noqa: B018 -- the same refusal above the dense size
        return self.whitening_ @ self.whitening_.T

    def describe(self) -> dict:
        """How the covariance was estimated, in words and numbers (for the report)."""
        return {
            "method": self.method_,
            "method_text": METHODS[self.method_],
            "estimator": self.estimator_,
            "estimator_text": ESTIMATORS[self.estimator_],
            "rank": self.rank_,
            "rank_deficient": self.rank_deficient_,
            "eigenpairs": len(self.eigenvalues_),
            "shrinkage": self.shrinkage_,
        }

    def distances_of(self, X: np.ndarray) -> np.ndarray:
        """Distances of the rows of ``X``: the stored ``distances_`` when ``X`` is the data the
        model was fitted on (checked by shape and a fingerprint), else computed."""
        if X.shape[0] == self.n_samples_fit_ and _fingerprint(X) == self._fingerprint:
            return self.distances_
        return self.distance(X)

    def distance(self, X) -> np.ndarray:
        """Mahalanobis distances of points to the fitted mean.

        Parameters
        ----------
        X : array-like, shape (m, N) or (N,)
            A single point may be given as a 1-D array.

        Returns
        -------
        ndarray, shape (m,)
            ``sqrt((x - mean)^T P (x - mean))`` with ``P`` the precision of ``estimator_``,
            computed in row blocks.
        """
        if not hasattr(self, "whitening_"):
            raise NotFittedError("MahalanobisModel is not fitted yet: call fit(Z) first")
        if isinstance(X, np.ndarray) and X.ndim == 1:
            X = X[None, :]
        X = as_rows(X, min_rows=1, name="X")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} components, the model was fitted on {self.n_features_in_}"
            )
        out = np.empty(X.shape[0])
        step = block_rows(max(X.shape[1], len(self.eigenvalues_)))
        with single_threaded_blas():
            for start in range(0, X.shape[0], step):
                D = np.asarray(X[start : start + step], dtype=np.float64) - self.mean_
                if self._inv is None:
                    Y = D @ self.whitening_
                    d2 = np.einsum("ij,ij->i", Y, Y)
                else:
                    d2 = self._d2(np.einsum("ij,ij->i", D, D), D @ self.eigenvectors_)
                out[start : start + len(D)] = np.sqrt(np.maximum(d2, 0.0))
        return out
