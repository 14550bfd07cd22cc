"""Shape and position of the point cloud: centroid, PCA spectrum, where the origin lies
(issue section 3)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentatlas.analysis.blockstats import as_rows, block_rows
from latentatlas.analysis.gaussian import MahalanobisModel
from latentatlas.core.jsonable import jsonable

VARIANCE_LEVELS = (0.5, 0.9, 0.99)
# Principal axes kept in ShapeResult.components when the spectrum is not dense (N > 4,096).
MAX_AXES_KEPT = 64


@dataclass(frozen=True, eq=False)  # arrays inside: compare to_dict() instead
class ShapeResult:
    """Centroid, PCA spectrum and the origin's position relative to the bulk.

    Arrays: ``centroid`` (N,); ``eigenvalues`` (descending), ``explained_ratio`` (of the total
    variance), ``semi_axes`` (= sqrt(eigenvalues), the 1-sigma ellipsoid) of shape (k,): all N
    axes up to N = 4,096, above that the ones the model computed (``method``); ``components``
    with one PCA axis per row (sign fixed so its largest-magnitude entry is positive; all k up to
    N = 4,096, the first 64 above). ``axes_for`` maps "0.5"/"0.9"/"0.99" to the number of leading
    axes holding that share of the variance (None when the k computed axes hold less).
    ``share_in_cube`` is None when no ``b`` was given.
    """

    centroid: np.ndarray
    centroid_norm: float
    eigenvalues: np.ndarray
    explained_ratio: np.ndarray
    axes_for: dict[str, int | None]
    components: np.ndarray
    semi_axes: np.ndarray
    origin_mahalanobis: float
    share_further_than_origin: float
    share_in_cube: float | None
    b: float | None
    n: int
    method: dict

    def to_dict(self) -> dict:
        return jsonable(
            {
                "n": self.n,
                "N": len(self.centroid),
                "centroid": self.centroid,
                "centroid_norm": self.centroid_norm,
                "eigenvalues": self.eigenvalues,
                "explained_ratio": self.explained_ratio,
                "axes_for": self.axes_for,
                "semi_axes": self.semi_axes,
                "origin_mahalanobis": self.origin_mahalanobis,
                "share_further_than_origin": self.share_further_than_origin,
                "share_in_cube": self.share_in_cube,
                "b": self.b,
                "covariance": self.method,
            }
        )


def shape(Z, b: float | None = None, *, model: MahalanobisModel | None = None) -> ShapeResult:
    """Centroid, PCA eigen-spectrum, ellipsoid semi-axes and where the origin lies.

    Parameters
    ----------
    Z : array-like, shape (n, N), n >= 2
    b : float, optional
        Half-width of the cube [-b, b]^N for ``share_in_cube``.
    model : MahalanobisModel, optional
        A model already fitted on ``Z`` (saves a covariance pass).

    Returns
    -------
    ShapeResult
        ``origin_mahalanobis`` is the origin's Mahalanobis distance from the centroid (using the
        pseudo-inverse covariance: directions without variance are ignored);
        ``share_further_than_origin`` the share of points with a larger distance.
    """
    X = as_rows(Z, min_rows=2)
    if b is not None and not (np.isfinite(b) and b > 0):
        raise ValueError(f"b must be a positive number, got {b}")
    model = model if model is not None else MahalanobisModel().fit(X)
    evals = model.eigenvalues_
    kept = len(evals) if model.method_ == "dense" else min(len(evals), MAX_AXES_KEPT)
    comps = model.eigenvectors_[:, :kept].T.copy()
    # Deterministic signs (an eigenvector is only defined up to sign).
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    comps *= np.where(signs == 0, 1.0, signs)[:, None]
    # The trace is exact in every method, so the shares of truncated spectra stay true shares.
    total = model.total_variance_ if model.method_ != "dense" else float(evals.sum())
    ratio = evals / total if total > 0 else np.zeros_like(evals)
    cum = np.cumsum(ratio)
    complete = model.method_ != "randomized"
    # Smallest k with cumulative share >= level (the tiny slack absorbs rounding in the cumsum).
    axes_for = {}
    for t in VARIANCE_LEVELS:
        k = int(np.searchsorted(cum, t - 1e-12) + 1)
        axes_for[str(t)] = min(k, len(cum)) if complete or k <= len(cum) else None
    d = model.distances_of(X)
    d0 = float(model.distance(np.zeros(X.shape[1]))[0])
    share_in_cube = None if b is None else _share_in_cube(X, b)
    return ShapeResult(
        centroid=model.mean_.copy(),
        centroid_norm=float(np.linalg.norm(model.mean_)),
        eigenvalues=evals,
        explained_ratio=ratio,
        axes_for=axes_for,
        components=comps,
        semi_axes=np.sqrt(evals),
        origin_mahalanobis=d0,
        share_further_than_origin=float(np.mean(d > d0)),
        share_in_cube=share_in_cube,
        b=None if b is None else float(b),
        n=X.shape[0],
        method=model.describe(),
    )


def _share_in_cube(X: np.ndarray, b: float) -> float:
    """Share of rows with every |x_j| <= b, in row blocks (no (n, N) temporaries)."""
    inside, step = 0, block_rows(X.shape[1], X.itemsize)
    for start in range(0, len(X), step):
        B = X[start : start + step]
        inside += int(np.count_nonzero((np.abs(B) <= b).all(axis=1)))
    return inside / len(X)
