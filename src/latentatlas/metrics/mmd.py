"""Maximum mean discrepancy (Gretton et al. 2012) between real and generated z-points, with a
permutation p-value: a kernel two-sample test that needs no classifier training."""

from __future__ import annotations

from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from latentatlas.analysis._rng import RandomState, as_rng, subsample_indices
from latentatlas.analysis._validate import check_points, check_same_dim

__all__ = ["mmd_test"]


def _sq_distances(X: np.ndarray) -> np.ndarray:
    sq = np.einsum("ij,ij->i", X, X)
    return np.maximum(sq[:, None] + sq[None, :] - 2.0 * X @ X.T, 0.0)


def _mmd2_unbiased(K: np.ndarray, first: np.ndarray) -> float:
    """Unbiased MMD^2 from the pooled kernel matrix ``K`` and a boolean mask of sample one."""
    a, b = first, ~first
    n, m = int(a.sum()), int(b.sum())
    Kaa, Kbb, Kab = K[np.ix_(a, a)], K[np.ix_(b, b)], K[np.ix_(a, b)]
    # Diagonals excluded: k(x, x) = 1 would bias the within-sample means upwards.
    within_a = (Kaa.sum() - np.trace(Kaa)) / (n * (n - 1))
    within_b = (Kbb.sum() - np.trace(Kbb)) / (m * (m - 1))
    return float(within_a + within_b - 2.0 * Kab.mean())


def mmd_test(
    real: Any,
    fake: Any,
    *,
    permutations: int = 200,
    max_points: int | None = 1000,
    bandwidth: float | None = None,
    random_state: RandomState = 0,
    n_boot: int = 100,
) -> dict:
    """Unbiased MMD^2 with a Gaussian (RBF) kernel, its permutation p-value and a 95 % bootstrap
    interval.

    Parameters
    ----------
    real : array-like, shape (n, N)
        Held-out real z-points.
    fake : array-like, shape (m, N)
        Generated z-points.
    permutations : int
        Random relabellings of the pooled points for the null distribution.
    max_points : int, optional
        Cap on points per sample (uniform, seeded subsample): the pooled kernel matrix is
        ``(n + m)^2`` floats.
    bandwidth : float, optional
        Kernel width sigma in ``exp(-||x - y||^2 / (2 sigma^2))``; default the median heuristic,
        the median distance between pooled points.
    random_state : int or numpy Generator
    n_boot : int
        Bootstrap resamples for the interval (each sample resampled on its own, from the same
        kernel matrix: no kernel is recomputed).

    Returns
    -------
    dict
        ``mmd2`` (unbiased; ~0 or slightly negative when the samples match), ``p_value``
        ((1 + #{null >= observed}) / (1 + permutations)), ``bandwidth``, ``null_mean``,
        ``null_std``, ``ci95`` ((lo, hi), see :func:`latentatlas.metrics.intervals.
        bootstrap_interval` for how it is centred), ``n_real``, ``n_fake``, ``permutations``.
    """
    R = check_points(real, min_rows=2, name="real")
    F = check_points(fake, min_rows=2, name="fake")
    check_same_dim(R, F)
    permutations = int(permutations)
    if permutations < 1:
        raise ValueError(f"permutations must be at least 1, got {permutations}")
    rng = as_rng(random_state)
    if max_points is not None:
        R = R[subsample_indices(len(R), int(max_points), rng)]
        F = F[subsample_indices(len(F), int(max_points), rng)]
    X = np.vstack([R, F])
    with threadpool_limits(limits=1, user_api="blas"):
        D2 = _sq_distances(X)
    if bandwidth is None:
        off = D2[np.triu_indices(len(X), k=1)]
        bandwidth = float(np.sqrt(np.median(off)))
    if not (np.isfinite(bandwidth) and bandwidth > 0):
        raise ValueError("bandwidth must be positive (are all points identical?)")
    K = np.exp(-D2 / (2.0 * bandwidth**2))
    first = np.zeros(len(X), dtype=bool)
    first[: len(R)] = True
    observed = _mmd2_unbiased(K, first)
    null = np.array([_mmd2_unbiased(K, rng.permutation(first)) for _ in range(permutations)])
    ci95 = _bootstrap(K, len(R), int(n_boot), rng, observed)
    return {
        "mmd2": observed,
        "p_value": float((1 + np.sum(null >= observed)) / (1 + permutations)),
        "bandwidth": bandwidth,
        "null_mean": float(null.mean()),
        "null_std": float(null.std()),
        "ci95": ci95,
        "n_real": len(R),
        "n_fake": len(F),
        "permutations": permutations,
    }


def _bootstrap(
    K: np.ndarray, n: int, n_boot: int, rng: np.random.Generator, observed: float
) -> tuple[float, float]:
    """Interval of the unbiased MMD^2 when each sample is redrawn with replacement.

    A resample is a vector of counts ``w`` (how often each point was drawn), so its within-sample
    sum over pairs of distinct draws is ``w' K w - n`` (each draw paired with itself adds
    k(x, x) = 1): three matrix-vector products per resample instead of a fancy-indexed copy of K.
    """
    m = len(K) - n
    Kaa, Kbb, Kab = K[:n, :n], K[n:, n:], K[:n, n:]
    values = np.empty(n_boot)
    for b in range(n_boot):
        wa = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
        wb = np.bincount(rng.integers(0, m, m), minlength=m).astype(np.float64)
        within_a = (wa @ Kaa @ wa - n) / (n * (n - 1))
        within_b = (wb @ Kbb @ wb - m) / (m * (m - 1))
        values[b] = within_a + within_b - 2.0 * (wa @ Kab @ wb) / (n * m)
    lo, hi = np.quantile(values, [0.025, 0.975]) - values.mean() + observed
    return float(lo), float(hi)
