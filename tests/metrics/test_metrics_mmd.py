"""MMD two-sample test: calibrated under the null, powerful against a covariance change."""

from __future__ import annotations

import numpy as np
import pytest

from latentatlas.metrics.mmd import mmd_test


def _textbook_mmd2(X, Y, sigma):
    def k(A, B):
        d2 = ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)
        return np.exp(-d2 / (2 * sigma**2))

    n, m = len(X), len(Y)
    Kxx, Kyy = k(X, X), k(Y, Y)
    return (
        (Kxx.sum() - np.trace(Kxx)) / (n * (n - 1))
        + (Kyy.sum() - np.trace(Kyy)) / (m * (m - 1))
        - 2 * k(X, Y).mean()
    )


def test_statistic_matches_the_textbook_formula():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((40, 3)), rng.standard_normal((30, 3)) + 0.5
    out = mmd_test(X, Y, bandwidth=1.3, permutations=10, max_points=None)
    assert out["mmd2"] == pytest.approx(_textbook_mmd2(X, Y, 1.3), rel=1e-10)


def test_null_is_calibrated_and_alternative_detected():
    rng = np.random.default_rng(1)
    p_null = [
        mmd_test(
            rng.standard_normal((100, 8)),
            rng.standard_normal((100, 8)),
            permutations=99,
            random_state=s,
        )["p_value"]
        for s in range(40)
    ]
    # Under the null, p-values are uniform: about 5 % below 0.05 (at most 6 of 40 here).
    assert sum(p < 0.05 for p in p_null) <= 6 and 0.3 < np.mean(p_null) < 0.7
    real = rng.standard_normal((300, 16))
    shrunk = 0.8 * rng.standard_normal((300, 16))
    out = mmd_test(real, shrunk, permutations=99, random_state=0)
    assert out["p_value"] <= 0.01 and out["mmd2"] > out["null_mean"] + 3 * out["null_std"]


def test_same_seed_same_numbers_and_errors():
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((50, 4)), rng.standard_normal((60, 4))
    assert mmd_test(X, Y, random_state=3) == mmd_test(X, Y, random_state=3)
    with pytest.raises(ValueError):
        mmd_test(X, Y[:, :3])
    with pytest.raises(ValueError, match="permutations"):
        mmd_test(X, Y, permutations=0)
    with pytest.raises(ValueError, match="bandwidth"):
        mmd_test(np.ones((5, 2)), np.ones((5, 2)))
