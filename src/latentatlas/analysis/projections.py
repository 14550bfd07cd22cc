"""Helpers for the projections onto planes of component pairs (issue section 7)."""

from __future__ import annotations

import itertools

import numpy as np

from latentatlas.analysis.blockstats import as_rows
from latentatlas.analysis.distribution import ComponentStats, component_stats


def confidence_ellipse(mean2, cov2, n_sigma: float, n_points: int = 128) -> np.ndarray:
    """Polygon of the ``n_sigma`` Mahalanobis contour of a 2-D Gaussian.

    Parameters
    ----------
    mean2 : array-like, shape (2,)
    cov2 : array-like, shape (2, 2)
        Symmetric positive semi-definite (e.g. the 2x2 block of the covariance for a pair).
    n_sigma : float
        Mahalanobis radius (2 and 3 for the 2-sigma/3-sigma ellipses).
    n_points : int
        Vertices; the polygon is closed (last vertex == first), so k = n_points + 1.

    Returns
    -------
    ndarray, shape (n_points + 1, 2)
    """
    mean2 = np.asarray(mean2, dtype=float).reshape(2)
    cov2 = np.asarray(cov2, dtype=float)
    if cov2.shape != (2, 2) or not np.isfinite(cov2).all():
        raise ValueError(f"cov2 must be a finite 2x2 matrix, got shape {cov2.shape}")
    evals, evecs = np.linalg.eigh(0.5 * (cov2 + cov2.T))
    t = np.linspace(0.0, 2.0 * np.pi, n_points + 1)
    circle = np.stack([np.cos(t), np.sin(t)], axis=1)
    pts = mean2 + n_sigma * (circle * np.sqrt(np.clip(evals, 0.0, None))) @ evecs.T
    pts[-1] = pts[0]
    return pts


def auto_pairs(
    Z, k: int = 3, *, stats: ComponentStats | None = None
) -> list[tuple[int, int]]:
    """Component pairs along which the origin lies furthest outside the bulk.

    Components are ranked by ``|mean_j| / std_j`` (how many standard deviations the origin is
    from the bulk along j; a constant component scores inf if its value is not 0). Pairs are
    formed from consecutive ranks ((1st, 2nd), (3rd, 4th), ...) so each plot shows new
    components; if N is too small for ``k`` disjoint pairs, the remaining best pairs by
    rank fill up. Deterministic (stable ordering); each pair is (smaller, larger). ``stats`` (the
    component statistics of ``Z``) spares a pass over the points.

    Returns
    -------
    list of (int, int), length ``min(k, N(N-1)/2)``
    """
    st = stats if stats is not None else component_stats(as_rows(Z, min_rows=2))
    mean, std = st.mean, st.std
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(std > 0, np.abs(mean) / std, np.where(mean != 0, np.inf, 0.0))
    order = [int(j) for j in np.argsort(-score, kind="stable")]
    pairs: list[tuple[int, int]] = []
    for a, b in zip(order[0::2], order[1::2], strict=False):
        if len(pairs) == k:
            break
        pairs.append((min(a, b), max(a, b)))
    if len(pairs) < k:
        # All pairs of ranked components, in lexicographic rank order.
        for ra, rb in itertools.combinations(range(len(order)), 2):
            if len(pairs) == k:
                break
            p = tuple(sorted((order[ra], order[rb])))
            if p not in pairs:
                pairs.append(p)
    return pairs
