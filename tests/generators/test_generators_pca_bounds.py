"""The study's sampler: principal coordinates inside per-axis intervals or per-plane ellipses,
drawn exactly from the restricted normal, checked in a PCA frame fitted independently."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from latentatlas.analysis import MahalanobisModel
from latentatlas.generators import MultivariateNormal, PCAEllipsoid


def _frame_coordinates(Z_train: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Sigma-unit principal coordinates of ``X`` in the frame of the train points (numpy's own
    eigendecomposition, not the generator's)."""
    mean = Z_train.mean(axis=0)
    vals, vecs = np.linalg.eigh(np.cov(Z_train, rowvar=False))
    order = np.argsort(vals)[::-1]
    return (X - mean) @ (vecs[:, order] / np.sqrt(vals[order]))


@pytest.mark.parametrize("c", [1.0, 2.0, 3.0])
def test_axis_bound_holds_and_is_the_truncated_normal(gaussian, c):
    gen = PCAEllipsoid(c=c).fit(gaussian.Z)
    X = gen.sample(20_000, random_state=0)
    U = _frame_coordinates(gaussian.Z, X)
    assert np.abs(U).max() <= c * (1 + 1e-9)
    truncated = stats.truncnorm(-c, c)
    for k in range(U.shape[1]):
        # Exact sampling: each coordinate's law is the truncated normal (sign-symmetric, so the
        # frame's arbitrary eigenvector signs do not matter).
        assert stats.kstest(U[:, k], truncated.cdf).pvalue > 1e-3
    assert gen.coordinate_variance_ == pytest.approx(truncated.var(), rel=1e-12)
    assert np.allclose(U.var(axis=0), truncated.var(), rtol=0.04)
    # Coordinates are independent: the sample covariance in the frame is diagonal.
    off = np.cov(U, rowvar=False) - np.diag(np.diag(np.cov(U, rowvar=False)))
    assert np.abs(off).max() < 0.03
    # The training points' own share inside every interval: a Gaussian has (2 Phi(c) - 1)^N.
    expected = (2 * stats.norm.cdf(c) - 1) ** 5
    assert gen.real_inside_ == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("n_components", [None, 3])
def test_plane_bound_holds_and_radius_is_truncated_rayleigh(gaussian, n_components):
    r = 1.5
    gen = PCAEllipsoid(bound="plane", r=r, n_components=n_components).fit(gaussian.Z)
    X = gen.sample(20_000, random_state=1)
    U = _frame_coordinates(gaussian.Z, X)
    k = gen.n_components_
    if k < U.shape[1]:
        assert np.abs(U[:, k:]).max() < 1e-9  # axes beyond k stay at the mean
    radii = np.hypot(U[:, 0 : k - 1 : 2], U[:, 1:k:2])
    assert radii.max() <= r * (1 + 1e-9)
    mass = -math.expm1(-(r**2) / 2)

    def rayleigh_cdf(s):
        return -np.expm1(-(np.asarray(s) ** 2) / 2) / mass

    for j in range(radii.shape[1]):
        assert stats.kstest(radii[:, j], rayleigh_cdf).pvalue > 1e-3
    if k % 2:  # the odd last axis on its own interval [-r, r]
        assert np.abs(U[:, k - 1]).max() <= r * (1 + 1e-9)
        assert stats.kstest(U[:, k - 1], stats.truncnorm(-r, r).cdf).pvalue > 1e-3
    # Within a plane the law is rotation-invariant: the angle is uniform.
    angle = np.arctan2(U[:, 1], U[:, 0])
    assert stats.kstest(angle, stats.uniform(-np.pi, 2 * np.pi).cdf).pvalue > 1e-3
    assert np.allclose(U[:, :k].var(axis=0)[: 2 * (k // 2)], gen.coordinate_variance_, rtol=0.04)


def test_uniform_variants_fill_their_bounds(gaussian):
    box = PCAEllipsoid(c=2.0, distribution="uniform").fit(gaussian.Z)
    U = _frame_coordinates(gaussian.Z, box.sample(20_000, random_state=2))
    assert np.abs(U).max() <= 2.0 * (1 + 1e-9)
    for k in range(5):
        assert stats.kstest(U[:, k], stats.uniform(-2, 4).cdf).pvalue > 1e-3
    disc = PCAEllipsoid(bound="plane", r=2.0, distribution="uniform").fit(gaussian.Z)
    U = _frame_coordinates(gaussian.Z, disc.sample(20_000, random_state=3))
    radii = np.hypot(U[:, 0], U[:, 1])
    # Uniform in a disc: P(radius <= s r) = s^2.
    assert stats.kstest(radii, lambda s: np.clip(s / 2.0, 0, 1) ** 2).pvalue > 1e-3


def test_study_default_differs_from_mvn_in_256_dimensions():
    rng = np.random.default_rng(11)
    N = 256
    A = rng.standard_normal((N, N)) / math.sqrt(N)
    Z = rng.standard_normal((3000, N)) @ A + 5.0
    pca = PCAEllipsoid().fit(Z)
    mvn = MultivariateNormal().fit(Z)
    assert (pca.bound, pca.c, pca.limit_) == ("axis", 2.0, 2.0)
    Xp, Xm = pca.sample(2000, random_state=0), mvn.sample(2000, random_state=0)
    assert np.abs(Xp - Xm).max() > 1.0
    # Every coordinate of every sample within its 2-sigma interval, in the train points' frame;
    # the rejection route would keep 0.954**256 = 6e-6 of normal draws, none of the real points.
    U = _frame_coordinates(Z, Xp)
    assert np.abs(U).max() <= 2.0 * (1 + 1e-6)
    assert pca.real_inside_ < 0.01
    # Truncation shrinks the spread: Mahalanobis radii of the samples sit inside the real ones.
    model = MahalanobisModel().fit(Z)
    assert np.median(model.distance(Xp)) < 0.92 * np.median(model.distance(Xm))


def test_same_seed_same_points_and_fitted_params(gaussian):
    gen = PCAEllipsoid(bound="plane").fit(gaussian.Z)
    assert np.array_equal(gen.sample(50, random_state=4), gen.sample(50, random_state=4))
    info = gen.fitted_params()
    assert info["bound"] == "plane" and info["limit"] == 2.0
    assert info["coordinate_variance"] == pytest.approx(gen.coordinate_variance_)
