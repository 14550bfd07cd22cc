"""Copy distance, re-encoding drift and the Mahalanobis tail on constructed arrays."""

from __future__ import annotations

import numpy as np
import pytest

from latentatlas.metrics.fidelity import copy_distance, mahalanobis_tail, reencoding_drift


@pytest.fixture(scope="module")
def split() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    z = rng.standard_normal((3000, 16)) @ rng.standard_normal((16, 16)) + 2.0
    return z[:2000], z[2000:2500], z[2500:]


def test_copies_of_training_points_are_flagged(split) -> None:
    train, heldout, _ = split
    out = copy_distance(train[:300], train, heldout)
    assert out["copy_distance"] == pytest.approx(0.0, abs=1e-6)
    assert out["copy_share"] == 1.0
    # Near-copies (tiny jitter) are flagged too.
    jitter = train[:300] + 1e-3 * np.random.default_rng(1).standard_normal((300, 16))
    assert copy_distance(jitter, train, heldout)["copy_distance"] < 0.05


def test_heldout_like_points_score_one(split) -> None:
    train, heldout, fresh = split
    out = copy_distance(fresh, train, heldout)
    assert 0.85 < out["copy_distance"] < 1.15
    assert out["copy_share"] < 0.05
    assert out["copy_share_heldout"] <= 0.01 + 1e-9
    far = copy_distance(fresh + 5.0, train, heldout)
    assert far["copy_distance"] > 1.5


def test_copy_distance_caps_queries_deterministically(split) -> None:
    train, heldout, fresh = split
    a = copy_distance(fresh, train, heldout, max_points=100, random_state=3)
    b = copy_distance(fresh, train, heldout, max_points=100, random_state=3)
    assert a == b
    assert (a["n_fake"], a["n_heldout"], a["n_train"]) == (100, 100, 2000)
    with pytest.raises(ValueError, match="dimensions"):
        copy_distance(fresh[:, :3], train, heldout)


def test_reencoding_drift_ratio() -> None:
    rng = np.random.default_rng(2)
    z, zr = rng.standard_normal((500, 32)), rng.standard_normal((400, 32))
    out = reencoding_drift(
        z,
        z + 2.0 * 0.1 * rng.standard_normal(z.shape),
        zr,
        zr + 0.1 * rng.standard_normal(zr.shape),
    )
    assert out["drift_ratio"] == pytest.approx(2.0, rel=0.05)
    assert out["median_real"] == pytest.approx(0.1 * np.sqrt(32), rel=0.05)
    assert (out["n_fake"], out["n_real"]) == (500, 400)
    fixed = reencoding_drift(z, z, zr, zr + 0.1)
    assert fixed["drift_ratio"] == 0.0
    assert np.isnan(reencoding_drift(z, z + 1, zr, zr)["drift_ratio"])


def test_reencoding_drift_checks_shapes() -> None:
    z = np.zeros((10, 4))
    with pytest.raises(ValueError, match="differ in shape"):
        reencoding_drift(z, z[:9], z, z)
    with pytest.raises(ValueError, match="dimensions"):
        reencoding_drift(z, z, np.zeros((10, 5)), np.zeros((10, 5)))


def test_mahalanobis_tail(split) -> None:
    train, heldout, fresh = split
    assert mahalanobis_tail(train, fresh) < 0.04
    assert mahalanobis_tail(train, fresh + 10.0) == 1.0


def test_mahalanobis_tail_and_gaussian_features_at_high_n() -> None:
    # N = 2,048 > HIGH_N with 150 training points: the low-rank-plus-diagonal Gaussian.
    from latentatlas.analysis.ppca import LowRankGaussian
    from latentatlas.metrics.two_sample import _GaussianScores

    rng = np.random.default_rng(11)
    W = rng.standard_normal((2048, 4)) * 2.0

    def draw(n: int, noise: float = 0.5) -> np.ndarray:
        return rng.standard_normal((n, 4)) @ W.T + noise * rng.standard_normal((n, 2048))

    train, held, wide = draw(150), draw(100), draw(100, noise=0.6)
    assert mahalanobis_tail(held, wide, fit_on=train) > 0.9
    assert mahalanobis_tail(held, draw(100), fit_on=train) < 0.1
    # The two-sample test's per-class Gaussian features: low rank, and they separate the sets.
    X, y = np.vstack([held, wide]), np.r_[np.zeros(100), np.ones(100)]
    scores = _GaussianScores().fit(X[::2], y[::2])
    assert all(isinstance(m, LowRankGaussian) for m in scores.models_)
    d2_held = scores.transform(X[1::2])[:, -2]
    assert d2_held[y[1::2] == 1].min() > d2_held[y[1::2] == 0].max()
