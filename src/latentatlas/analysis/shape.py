"""Shape and position of the point cloud: centroid, PCA spectrum, where the origin lies
(issue section 3)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentatlas.analysis.gaussian import BLOCK_ROWS, MahalanobisModel, single_threaded_blas
from latentatlas.core.jsonable import jsonable
from latentatlas.core.validation import check_points

VARIANCE_LEVELS = (0.5, 0.9, 0.99)


@dataclass(frozen=True, eq=False)  # arrays inside: compare to_dict() instead
class ShapeResult:
    """Centroid, PCA spectrum and the origin's position relative to the bulk.

    Arrays: ``centroid``, ``eigenvalues`` (descending), ``explained_ratio``, ``semi_axes``
    (= sqrt(eigenvalues), the 1-sigma ellipsoid) of shape (N,); ``components`` (N, N) with one
    PCA axis per row (sign fixed so its largest-magnitude entry is positive). ``axes_for`` maps
    "0.5"/"0.9"/"0.99" to the number of leading axes holding that share of the variance.
    ``share_in_cube`` is None when no ``b`` was given.
    """

    centroid: np.ndarray
    centroid_norm: float
    eigenvalues: np.ndarray
    explained_ratio: np.ndarray
    axes_for: dict[str, int]
    components: np.ndarray
    semi_axes: np.ndarray
    origin_mahalanobis: float
    share_further_than_origin: float
    share_in_cube: float | None
    b: float | None
    n: int

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
    X = check_points(Z, min_rows=2)
    if b is not None and not (np.isfinite(b) and b > 0):
        raise ValueError(f"b must be a positive number, got {b}")
    model = model if model is not None else MahalanobisModel().fit(X)
    with single_threaded_blas():
        evals, evecs = np.linalg.eigh(model.covariance_)
    evals = np.clip(evals[::-1], 0.0, None)
    comps = evecs[:, ::-1].T.copy()
    # Deterministic signs (an eigenvector is only defined up to sign).
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    comps *= np.where(signs == 0, 1.0, signs)[:, None]
    total = evals.sum()
    ratio = evals / total if total > 0 else np.zeros_like(evals)
    cum = np.cumsum(ratio)
    # Smallest k with cumulative share >= level (the tiny slack absorbs rounding in the cumsum).
    axes_for = {
        str(t): int(min(np.searchsorted(cum, t - 1e-12) + 1, len(cum))) for t in VARIANCE_LEVELS
    }
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
    )


def _share_in_cube(X: np.ndarray, b: float) -> float:
    """Share of rows with every |x_j| <= b, in row blocks (no (n, N) temporaries)."""
    inside = 0
    for start in range(0, len(X), BLOCK_ROWS):
        B = X[start : start + BLOCK_ROWS]
        inside += int(np.count_nonzero((np.abs(B) <= b).all(axis=1)))
    return inside / len(X)
