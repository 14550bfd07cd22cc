"""Persistent homology of point clouds (ripser): components (H0) and loops (H1), and a
topological distance between a generated and a real sample (persim).

- :func:`maxmin_landmarks`: farthest-point landmarks and their covering radius;
- :func:`persistence`: the H0/H1 persistence diagrams of landmarks and how many features are
  long-lived (persistence above twice the covering radius);
- :func:`topology_distance`: Wasserstein distances between the H0 and H1 diagrams of equal-size
  random subsamples of two clouds, in units of the real cloud's typical merge scale.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from latentatlas.core.rng import RandomState, as_rng, subsample_indices
from latentatlas.core.validation import check_points, check_same_dim

N_LANDMARKS = 300
N_POINTS = 300


def maxmin_landmarks(
    X: Any, n_landmarks: int = N_LANDMARKS, random_state: RandomState = 0
) -> tuple[np.ndarray, float]:
    """Farthest-point (maxmin) landmarks of ``X`` (n, d): each next landmark is the point
    farthest from those chosen so far, starting from a random one.

    Returns the landmark indices (m,), m = min(n_landmarks, n), in the order chosen, and the
    covering radius: every point of ``X`` lies within it of some landmark.
    """
    X = check_points(X, min_rows=1, name="X")
    m = max(1, min(int(n_landmarks), len(X)))
    sq = np.einsum("ij,ij->i", X, X)
    idx = np.empty(m, dtype=np.int64)
    idx[0] = int(as_rng(random_state).integers(len(X)))
    # Squared distances by one matrix-vector product per landmark (|x|^2 - 2 x.l + |l|^2): BLAS,
    # several times faster than ripser's own greedy permutation on a few thousand points.
    d2 = np.full(len(X), np.inf)
    for j in range(m):
        if j:
            idx[j] = int(np.argmax(d2))
        d2 = np.minimum(d2, sq - 2.0 * (X @ X[idx[j]]) + sq[idx[j]])
    return idx, float(np.sqrt(max(0.0, d2.max())))


def persistence(
    X: Any, n_landmarks: int = N_LANDMARKS, random_state: RandomState = 0
) -> dict[str, Any]:
    """H0 and H1 persistence of the Vietoris–Rips filtration on maxmin landmarks of ``X`` (n, d).

    A feature counts as long-lived when its persistence (death - birth) exceeds twice the
    landmarks' covering radius r: the landmarks are within r of every point, so the landmark
    filtration can make or hide features up to about that scale; anything longer is a
    property of the cloud, not of the subsample. The one H0 class that never dies counts as
    one long-lived component.

    Returns ``h0`` (finite H0 deaths, births are 0, descending), ``h1`` (H1 (birth, death)
    pairs, by persistence descending), ``threshold`` (2 r), ``covering_radius``,
    ``components`` (long-lived H0 classes, the infinite one included), ``loops``
    (long-lived H1 classes), ``n_landmarks``, ``n_points``.
    """
    X = check_points(X, min_rows=2, name="X")
    idx, radius = maxmin_landmarks(X, n_landmarks, random_state)
    h0, h1 = _diagrams(X[idx])
    deaths = np.sort(h0[np.isfinite(h0[:, 1]), 1])[::-1]
    h1 = h1[np.argsort(h1[:, 0] - h1[:, 1], kind="stable")] if len(h1) else np.zeros((0, 2))
    threshold = 2.0 * radius
    return {
        "h0": deaths.tolist(),
        "h1": h1.tolist(),
        "threshold": threshold,
        "covering_radius": radius,
        "components": 1 + int(np.sum(deaths > threshold)),
        "loops": int(np.sum(h1[:, 1] - h1[:, 0] > threshold)),
        "n_landmarks": len(idx),
        "n_points": len(X),
    }


def topology_distance(
    real: Any, fake: Any, n_points: int = N_POINTS, random_state: RandomState = 0
) -> dict[str, Any]:
    """Wasserstein distances between the persistence diagrams of real and generated points.

    Parameters
    ----------
    real : array-like, shape (n, N)
    fake : array-like, shape (m, N)
    n_points : both clouds are reduced to the same number of uniformly drawn points, min(n,
        m, n_points) (diagrams of different sample sizes differ even for one distribution;
        uniform draws, not landmarks, so both sides are sampled alike).

    Returns
    -------
    dict
        ``h0`` and ``h1``: the 1-Wasserstein distance (persim, L-infinity ground metric) between
        the two H0 diagrams (finite deaths) and between the two H1 diagrams, divided by
        ``scale``: the real subsample's mean finite H0 death (its typical merge distance), so
        the numbers do not depend on the units of z. 0 for identical diagrams; a generator
        that fills a gap between separate real clusters loses their long H0 bars, one that
        fragments a connected region adds some. ``n_points``.
    """
    from persim import wasserstein

    R = check_points(real, min_rows=3, name="real")
    F = check_points(fake, min_rows=3, name="fake")
    check_same_dim(R, F, ("real", "fake"))
    rng = as_rng(random_state)
    m = min(len(R), len(F), int(n_points))
    dr = _diagrams(R[subsample_indices(len(R), m, rng)])
    df = _diagrams(F[subsample_indices(len(F), m, rng)])

    def finite(d: np.ndarray) -> np.ndarray:
        return d[np.isfinite(d[:, 1])]

    scale = float(finite(dr[0])[:, 1].mean())
    return {
        "h0": float(wasserstein(finite(dr[0]), finite(df[0]))) / scale,
        "h1": float(wasserstein(dr[1], df[1])) / scale,
        "scale": scale,
        "n_points": m,
    }


def _diagrams(X: np.ndarray) -> list[np.ndarray]:
    """ripser's H0 and H1 diagrams of the rows of ``X``, from their distance matrix (ripser
    warns about point clouds with fewer rows than columns, which z-points often are)."""
    from ripser import ripser
    from scipy.spatial.distance import pdist, squareform

    return ripser(squareform(pdist(X)), maxdim=1, distance_matrix=True)["dgms"]
