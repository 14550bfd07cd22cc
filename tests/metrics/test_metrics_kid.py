"""KID: the unbiased MMD² under the cubic kernel, by torch-fidelity's subsets; its standard error
is the sampling noise of a new generated set, not the (zero) spread of identical subsets."""

from __future__ import annotations

import numpy as np
import pytest

from latentatlas.metrics.kid import kernel_inception_distance, mmd2_unbiased, polynomial_kernel


def direct_mmd2(X: np.ndarray, Y: np.ndarray) -> float:
    """The unbiased estimate written out pair by pair."""
    d, m = X.shape[1], len(X)

    def k(x: np.ndarray, y: np.ndarray) -> float:
        return (float(x @ y) / d + 1.0) ** 3

    xx = sum(k(X[i], X[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(k(Y[i], Y[j]) for i in range(m) for j in range(m) if i != j)
    xy = sum(k(X[i], Y[j]) for i in range(m) for j in range(m))
    return (xx + yy) / (m * (m - 1)) - 2.0 * xy / (m * m)


def test_equals_the_direct_computation() -> None:
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(12, 5)), rng.normal(0.5, 1.0, size=(12, 5))
    assert mmd2_unbiased(
        polynomial_kernel(X, X), polynomial_kernel(X, Y), polynomial_kernel(Y, Y)
    ) == pytest.approx(direct_mmd2(X, Y), rel=1e-12)
    # One subset of every point: the whole-set estimate (MMD² does not depend on the order).
    whole = kernel_inception_distance(X, Y, subsets=3, subset_size=12, seed=1)
    assert whole["kid"] == pytest.approx(direct_mmd2(X, Y), rel=1e-12)
    assert whole["kid_std"] == pytest.approx(0.0, abs=1e-12)
    # Subsets: the mean of the direct estimate on torch-fidelity's draws.
    rs = np.random.RandomState(4)
    draws = [(rs.choice(12, 6, replace=False), rs.choice(12, 6, replace=False)) for _ in range(5)]
    values = [direct_mmd2(X[i], Y[j]) for i, j in draws]
    sub = kernel_inception_distance(X, Y, subsets=5, subset_size=6, seed=4)
    assert sub["kid"] == pytest.approx(np.mean(values), rel=1e-12)
    assert sub["kid_std"] == pytest.approx(np.std(values), rel=1e-10)
    assert sub["subset_size"] == 6 and sub["n_a"] == sub["n_b"] == 12


def test_standard_error_is_the_noise_of_a_new_generated_set() -> None:
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(80, 6))
    runs = [
        kernel_inception_distance(ref, rng.normal(0.3, 1.0, size=(80, 6)), subsets=5, seed=0)
        for _ in range(30)
    ]
    kids = np.array([r["kid"] for r in runs])
    se = np.mean([r["se"] for r in runs])
    # The subsets are the whole sets here: their spread says nothing, the bootstrap does.
    assert all(r["kid_std"] < 1e-12 for r in runs)
    assert 0.6 < se / kids.std(ddof=1) < 1.6
    lo, hi = runs[0]["ci95"]
    assert lo < runs[0]["kid"] < hi


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="subsets"):
        kernel_inception_distance(np.zeros((5, 2)), np.ones((5, 2)), subsets=0)
    with pytest.raises(ValueError):
        kernel_inception_distance(np.zeros((5, 2)), np.ones((5, 3)))
