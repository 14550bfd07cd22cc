"""Kernel Inception Distance (Bińkowski et al. 2018): the unbiased MMD² between two feature sets
under the cubic polynomial kernel ``k(x, y) = (x·y / d + 1)^3``, averaged over random subsets.

Computed as torch-fidelity 0.4.0 computes it (``torch_fidelity/metric_kid.py``: the same kernel,
estimator, subsets and seeded ``np.random.RandomState``), so that in the same feature space and
with the same seed the number is torch-fidelity's: ``kid`` is the mean over ``subsets`` subsets
of ``subset_size`` points of each side (drawn without replacement), ``kid_std`` the standard
deviation over the subsets (torch-fidelity's ``kernel_inception_distance_std``).

That spread is not the estimate's sampling error: when ``subset_size`` is the whole set every
subset is a permutation of it and ``kid_std`` is 0 whatever n is. The standard error here
(``se``) is that of the unbiased MMD² of the whole sets for a new generated set (the reference
is shared by everything compared with it, as in :func:`latentatlas.metrics.frechet.frechet_test`
with ``resample_a=False``), by the delete-half jackknife, and ``ci95`` is ``kid ± 1.96 se``.
Above :data:`KERNEL_MAX` points a side, the standard error is that of the first ``KERNEL_MAX``
points (larger than the whole set's: conservative).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from latentatlas.core.validation import check_points, check_same_dim
from latentatlas.metrics.intervals import Z95

__all__ = ["kernel_inception_distance", "mmd2_unbiased", "polynomial_kernel"]

#: torch-fidelity's defaults (``torch_fidelity/defaults.py``).
SUBSETS = 100
SUBSET_SIZE = 1000
SEED = 2020
#: Up to this many points a side, the three kernel matrices are computed once (at most
#: 3 x 2,500² float64, 150 MB) and every subset indexes into them.
KERNEL_MAX = 2500
N_ROUNDS = 50


def polynomial_kernel(
    X: np.ndarray, Y: np.ndarray, degree: int = 3, coef0: float = 1.0
) -> np.ndarray:
    """``(X Y^T / d + coef0) ** degree`` for X (n, d) and Y (m, d) -> (n, m)."""
    return (X @ Y.T / X.shape[1] + coef0) ** degree


def mmd2_unbiased(K_XX: np.ndarray, K_XY: np.ndarray, K_YY: np.ndarray) -> float:
    """The unbiased MMD² estimate from the kernel matrices of two sets of m points each ((m, m)
    apiece): within-set sums without their diagonals over m(m-1), the cross sum over m²."""
    m = K_XX.shape[0]
    within = (K_XX.sum() - np.trace(K_XX) + K_YY.sum() - np.trace(K_YY)) / (m * (m - 1))
    return float(within - 2.0 * K_XY.sum() / (m * m))


def _subset_values(
    A: np.ndarray, B: np.ndarray, kernels: tuple[np.ndarray, ...] | None,
    subsets: int, size: int, seed: int,
) -> np.ndarray:
    if kernels is not None and size == len(A) == len(B):
        # Every subset is a permutation of both whole sets, and MMD² does not depend on the
        # order: each of torch-fidelity's values is the whole-set value (up to rounding).
        return np.full(subsets, mmd2_unbiased(*kernels))
    rng = np.random.RandomState(seed)
    values = np.empty(subsets)
    for s in range(subsets):
        # torch-fidelity's order of draws: the first set's subset, then the second's.
        i = rng.choice(len(A), size, replace=False)
        j = rng.choice(len(B), size, replace=False)
        if kernels is None:
            a, b = A[i], B[j]
            K = (polynomial_kernel(a, a), polynomial_kernel(a, b), polynomial_kernel(b, b))
        else:
            K_AA, K_AB, K_BB = kernels
            K = (K_AA[np.ix_(i, i)], K_AB[np.ix_(i, j)], K_BB[np.ix_(j, j)])
        values[s] = mmd2_unbiased(*K)
    return values


def _half_sample_se(
    K_AA: np.ndarray, K_AB: np.ndarray, K_BB: np.ndarray, n_rounds: int, seed: int
) -> float:
    """Standard error of the whole-set MMD² for a new second set, by the delete-half
    jackknife: the estimate on random halves of the second set (drawn without replacement),
    whose spread times sqrt(h / (m - h)) estimates the whole set's. Not the bootstrap: a
    resample's repeated points pair with themselves, and under the cubic kernel k(y, y) is
    large, so the bootstrap spread overstated the error (by 2x on one reference in tests)."""
    n, m = K_AB.shape
    h = m // 2
    within_a = (K_AA.sum() - np.trace(K_AA)) / (n * (n - 1))
    rng = np.random.default_rng(seed)
    values = np.empty(n_rounds)
    for r in range(n_rounds):
        j = rng.choice(m, h, replace=False)
        K = K_BB[np.ix_(j, j)]
        values[r] = within_a + (K.sum() - np.trace(K)) / (h * (h - 1)) - 2.0 * K_AB[:, j].mean()
    return float(values.std(ddof=1) * np.sqrt(h / (m - h)))


def kernel_inception_distance(
    a: Any,
    b: Any,
    subsets: int = SUBSETS,
    subset_size: int = SUBSET_SIZE,
    seed: int = SEED,
    n_rounds: int = N_ROUNDS,
) -> dict[str, Any]:
    """KID between reference features ``a`` (n, d) and generated features ``b`` (m, d).

    ``subset_size`` is cut to ``min(n, m)`` (torch-fidelity refuses a larger one instead).
    Returns ``{"kid": mean over subsets, "kid_std": std over subsets (ddof 0, as torch-fidelity),
    "se": standard error, "ci95": (kid - 1.96 se, kid + 1.96 se), "subsets": int,
    "subset_size": int, "n_a": n, "n_b": m}``; KID can be slightly negative (an unbiased
    estimate of a quantity that is 0 for equal distributions)."""
    A = check_points(a, min_rows=2, name="a")
    B = check_points(b, min_rows=2, name="b")
    check_same_dim(A, B)
    if subsets < 1:
        raise ValueError(f"subsets must be at least 1, got {subsets}")
    size = min(int(subset_size), len(A), len(B))
    if size < 2:
        raise ValueError(f"subset_size must be at least 2, got {subset_size}")
    a_se, b_se = A[:KERNEL_MAX], B[:KERNEL_MAX]
    se_kernels = (
        polynomial_kernel(a_se, a_se), polynomial_kernel(a_se, b_se), polynomial_kernel(b_se, b_se)
    )
    whole = len(A) <= KERNEL_MAX and len(B) <= KERNEL_MAX
    values = _subset_values(A, B, se_kernels if whole else None, int(subsets), size, seed)
    se = _half_sample_se(*se_kernels, n_rounds=n_rounds, seed=seed)
    kid = float(values.mean())
    return {
        "kid": kid,
        "kid_std": float(values.std()),
        "se": se,
        "ci95": (kid - Z95 * se, kid + Z95 * se),
        "subsets": int(subsets),
        "subset_size": size,
        "n_a": len(A),
        "n_b": len(B),
    }
