"""KernelDensity: scipy's gaussian_kde as the reference density, the held-out bandwidth choice,
and the copying that a small bandwidth causes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from latentatlas.generators import KernelDensity, MultivariateNormal
from latentatlas.generators.kde import log_kernel_means
from latentatlas.metrics.fidelity import copy_distance


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 6, (4, 6))
    Z = centres[rng.integers(4, size=1500)] + rng.standard_normal((1500, 6))
    return Z, centres


def test_density_is_scipys_gaussian_kde(blobs):
    Z, _ = blobs
    kde = KernelDensity(bandwidth=0.4).fit(Z)
    # scipy's kernel covariance is bw_method^2 times the data covariance: the same estimator.
    ref = stats.gaussian_kde(Z.T, bw_method=0.4)
    Q = np.random.default_rng(0).normal(0, 6, (300, 6))
    assert np.allclose(kde.score_samples(Q), ref.logpdf(Q.T), rtol=1e-8, atol=1e-8)


def test_bandwidth_is_the_heldout_argmax(blobs):
    Z, _ = blobs
    grid = [0.05, 0.1, 0.2, 0.4, 0.8, 1.6]
    kde = KernelDensity(bandwidths=grid, random_state=5).fit(Z)
    order = np.random.default_rng(5).permutation(len(Z))
    held, kept = Z[order[:150]], Z[order[150:]]
    scores = [stats.gaussian_kde(kept.T, bw_method=h).logpdf(held.T).mean() for h in grid]
    assert kde.bandwidth_ == grid[int(np.argmax(scores))]
    # Scipy's data covariance is of the kept points, ours of all points: close, not equal.
    assert np.allclose(kde.heldout_scores_, scores, rtol=0.01)
    # Clustered data wants a narrower kernel than the clusters' spread suggests.
    assert 0.05 < kde.bandwidth_ < 1.6
    # And the KDE beats a single Gaussian on fresh points from the same blobs.
    rng = np.random.default_rng(9)
    _, centres = blobs
    fresh = centres[rng.integers(4, size=500)] + rng.standard_normal((500, 6))
    mvn = MultivariateNormal().fit(Z)
    assert kde.score_samples(fresh).mean() > mvn.score_samples(fresh).mean() + 1.0


def test_small_bandwidth_copies_training_points(blobs):
    Z, centres = blobs
    train, held = Z[:1200], Z[1200:]
    tight = KernelDensity(bandwidth=0.005).fit(train).sample(500, random_state=0)
    wide = MultivariateNormal().fit(train).sample(500, random_state=0)
    assert copy_distance(tight, train, held)["copy_distance"] < 0.1
    assert copy_distance(wide, train, held)["copy_distance"] > 0.5


def test_log_space_sum_survives_256_dimensions():
    # Kernel values of exp(-500) underflow a linear-space sum; the log-space one is exact.
    rng = np.random.default_rng(1)
    P = rng.standard_normal((50, 256))
    q = P[:1] + 1.0
    got = log_kernel_means(q, P, [0.7])[0, 0]
    d2 = ((P - q) ** 2).sum(axis=1)
    terms = -d2 / (2 * 0.49) - 256 * np.log(0.7) - 128 * np.log(2 * np.pi)
    m = terms.max()
    assert got == pytest.approx(m + np.log(np.exp(terms - m).sum()) - np.log(50), rel=1e-12)
    assert np.isfinite(got) and got < -300


def test_bad_parameters(blobs):
    Z, _ = blobs
    for kwargs in (
        {"bandwidth": "scott"},
        {"bandwidth": 0.0},
        {"bandwidth": True},
        {"bandwidths": []},
        {"bandwidths": [0.1, -1.0]},
        {"heldout_fraction": 1.5},
    ):
        with pytest.raises(ValueError):
            KernelDensity(**kwargs).fit(Z)
