"""Gaussian summaries of a point cloud: blocked mean/covariance and Mahalanobis distances."""

from __future__ import annotations

import numpy as np
from sklearn.exceptions import NotFittedError
from threadpoolctl import threadpool_limits

from latentatlas.core.validation import check_points

# Rows per block when streaming over a large (n, N) array: 8192 x 256 float64 is 16 MB, so the
# temporaries stay small while each matmul is still big enough for BLAS to run at full speed.
BLOCK_ROWS = 8192


def single_threaded_blas():
    """Context manager running BLAS/LAPACK on one thread.

    Used for the O(n N^2) symmetric rank-k updates of a covariance and for N x N
    eigen-decompositions: OpenBLAS's threaded versions of these are barely faster on idle
    cores and 5-10x *slower* when the cores are busy (measured on the 2-core target machine),
    while one thread does a (200000, 256) covariance in well under a second.
    """
    return threadpool_limits(limits=1, user_api="blas")


def mean_covariance(X: np.ndarray, ddof: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of the rows of ``X``, accumulated in row blocks.

    Parameters
    ----------
    X : ndarray, shape (n, N), float64
    ddof : int
        Delta degrees of freedom (1: unbiased, 0: maximum likelihood).

    Returns
    -------
    mean : ndarray, shape (N,)
    cov : ndarray, shape (N, N)
        Exactly symmetric. Two passes (mean first, then centred products) for accuracy; never
        allocates a centred copy of the whole array.
    """
    n, N = X.shape
    mean = X.mean(axis=0)
    cov = np.zeros((N, N))
    with single_threaded_blas():
        for start in range(0, n, BLOCK_ROWS):
            B = X[start : start + BLOCK_ROWS] - mean
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
    top = max(float(evals[0]), 0.0)
    tol = top * (cov.shape[0] * np.finfo(np.float64).eps if rtol is None else rtol)
    keep = evals > tol
    W = evecs[:, keep] / np.sqrt(evals[keep])
    return W, np.clip(evals, 0.0, None), int(keep.sum())


def _fingerprint(X: np.ndarray) -> tuple:
    """A cheap identity check for "the same points": shape plus the sum of ~64 spread rows."""
    step = max(1, X.shape[0] // 64)
    return X.shape, float(X[::step].sum())


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
    covariance_ : ndarray, shape (N, N)
        Unbiased sample covariance.
    precision_ : ndarray, shape (N, N)
        Pseudo-inverse of the covariance (eigh based, robust to rank deficiency).
    eigenvalues_ : ndarray, shape (N,)
        Covariance eigenvalues, descending, clipped at 0.
    rank_ : int
        Number of eigen-directions used.
    whitening_ : ndarray, shape (N, rank_)
        ``(x - mean_) @ whitening_`` has identity covariance on the data's span.
    distances_ : ndarray, shape (n,)
        Mahalanobis distances of the fitted points (reused by the analyses that take ``model``).
    n_features_in_, n_samples_fit_ : int
    """

    def __init__(self, rtol: float | None = None) -> None:
        self.rtol = rtol

    def fit(self, Z) -> MahalanobisModel:
        """Fit mean and covariance to ``Z`` of shape (n, N), n >= 2."""
        X = check_points(Z, min_rows=2)
        self.mean_, self.covariance_ = mean_covariance(X)
        self.whitening_, self.eigenvalues_, self.rank_ = _whitening(self.covariance_, self.rtol)
        self.precision_ = self.whitening_ @ self.whitening_.T
        self.n_features_in_ = X.shape[1]
        self.n_samples_fit_ = X.shape[0]
        self._fingerprint = _fingerprint(X)
        self.distances_ = self.distance(X)
        return self

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
            ``sqrt((x - mean)^T precision (x - mean))``, computed in row blocks.
        """
        if not hasattr(self, "whitening_"):
            raise NotFittedError("MahalanobisModel is not fitted yet: call fit(Z) first")
        X = np.asarray(X)
        if X.ndim == 1:
            X = X[None, :]
        X = check_points(X, min_rows=1, name="X")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} components, the model was fitted on {self.n_features_in_}"
            )
        out = np.empty(X.shape[0])
        for start in range(0, X.shape[0], BLOCK_ROWS):
            Y = (X[start : start + BLOCK_ROWS] - self.mean_) @ self.whitening_
            out[start : start + len(Y)] = np.sqrt(np.einsum("ij,ij->i", Y, Y))
        return out
