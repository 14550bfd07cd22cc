"""Fitting on synthetic data recovers the known parameters."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special
from sklearn.covariance import LedoitWolf

from latentatlas.analysis import MahalanobisModel
from latentatlas.generators import (
    GaussianMixture,
    IsotropicNormal,
    MultivariateNormal,
    PCAEllipsoid,
    PerComponentNormal,
)


def _close(A, B, rtol):
    """Matrices equal within ``rtol`` relative to the largest entry of ``B``."""
    return np.abs(A - B).max() <= rtol * np.abs(B).max()


def _cov_close(X, cov, rtol=0.05):
    """Sample covariance of the rows of ``X`` close to ``cov`` (sampling error ~ 1 % at 20k)."""
    return _close(np.cov(X, rowvar=False), cov, rtol)


def test_isotropic_normal_ignores_offset(gaussian):
    gen = IsotropicNormal().fit(gaussian.Z)
    assert gen.scale_ == 1.0
    X = gen.sample(20_000, random_state=0)
    assert np.abs(X.mean(axis=0)).max() < 0.03
    assert _cov_close(X, np.eye(5))


def test_isotropic_normal_fitted_scale_is_rms(gaussian):
    Z = gaussian.Z
    gen = IsotropicNormal(scale="fit").fit(Z)
    assert gen.scale_ == pytest.approx(np.sqrt(np.mean(Z**2)), rel=1e-12)
    # So the samples' mean squared norm matches the real points'.
    X = gen.sample(20_000, random_state=0)
    assert np.mean(np.sum(X**2, axis=1)) == pytest.approx(np.mean(np.sum(Z**2, axis=1)), rel=0.02)
    assert IsotropicNormal(scale="fit").fit(3 * Z).scale_ == pytest.approx(3 * gen.scale_)
    assert gen.fitted_params()["fitted_scale"] is True


@pytest.mark.parametrize("scale", [0.0, -1.0, "rms", float("nan"), True])
def test_isotropic_normal_rejects_bad_scale(gaussian, scale):
    with pytest.raises(ValueError, match="scale"):
        IsotropicNormal(scale=scale).fit(gaussian.Z)


def test_per_component_normal(gaussian):
    gen = PerComponentNormal().fit(gaussian.Z)
    assert np.allclose(gen.mean_, gaussian.Z.mean(axis=0), rtol=0, atol=1e-12)
    assert np.allclose(gen.std_, gaussian.Z.std(axis=0, ddof=1), rtol=1e-12)
    assert np.allclose(gen.mean_, gaussian.mean, atol=0.05)
    assert np.allclose(gen.std_, np.sqrt(np.diag(gaussian.cov)), rtol=0.03)
    X = gen.sample(20_000, random_state=1)
    assert np.allclose(X.mean(axis=0), gen.mean_, atol=0.08)  # 4.5 sigma at the largest std
    # Independent components: the correlations are gone.
    assert _cov_close(X, np.diag(gen.std_**2))


def test_multivariate_normal_recovers_covariance(gaussian):
    gen = MultivariateNormal().fit(gaussian.Z)
    assert gen.shrinkage_ == 0.0 and gen.rank_ == 5
    assert np.allclose(gen.covariance_, np.cov(gaussian.Z, rowvar=False), rtol=1e-10, atol=1e-12)
    assert np.allclose(gen.factor_ @ gen.factor_.T, gen.covariance_, atol=1e-10)
    assert np.allclose(gen.mean_, gaussian.mean, atol=0.05)
    assert _close(gen.covariance_, gaussian.cov, rtol=0.03)
    X = gen.sample(20_000, random_state=2)
    assert np.allclose(X.mean(axis=0), gen.mean_, atol=0.08)
    assert _cov_close(X, gen.covariance_)


def test_multivariate_normal_shrinkage(gaussian):
    S = np.cov(gaussian.Z, rowvar=False)
    target = np.trace(S) / 5 * np.eye(5)
    half = MultivariateNormal(shrinkage=0.5).fit(gaussian.Z)
    assert np.allclose(half.covariance_, 0.5 * S + 0.5 * target, atol=1e-12)
    full = MultivariateNormal(shrinkage=1.0).fit(gaussian.Z)
    assert np.allclose(full.covariance_, target, atol=1e-12)
    lw = MultivariateNormal(shrinkage="ledoit-wolf").fit(gaussian.Z)
    assert lw.shrinkage_ == pytest.approx(LedoitWolf().fit(gaussian.Z).shrinkage_, rel=1e-10)
    for bad in (-0.1, 1.5, "oas", None):
        with pytest.raises(ValueError, match="shrinkage"):
            MultivariateNormal(shrinkage=bad).fit(gaussian.Z)


def _off_span(X, Z):
    """Largest distance of the rows of X from the affine span of the rows of Z."""
    D = Z[1:] - Z[0]
    Q, _ = np.linalg.qr(D.T)
    R = (X - Z[0]) - ((X - Z[0]) @ Q) @ Q.T
    return np.abs(R).max()


def test_fewer_points_than_dimensions():
    Z = np.random.default_rng(0).standard_normal((10, 30)) + 2.0
    mvn = MultivariateNormal(covariance="full").fit(Z)
    assert mvn.rank_ == 9 and mvn.factor_.shape == (30, 9)
    X = mvn.sample(50, random_state=0)
    assert X.shape == (50, 30) and _off_span(X, Z) < 1e-9  # within the data's affine span
    assert mvn.fitted_params()["rank"] == 9
    assert MultivariateNormal(shrinkage="ledoit-wolf", covariance="full").fit(Z).rank_ == 30

    pca = PCAEllipsoid(covariance="full").fit(Z)
    assert pca.n_components_ == 9 and pca.components_.shape == (9, 30)
    Y = pca.sample(50, random_state=0)
    assert Y.shape == (50, 30) and _off_span(Y, Z) < 1e-9
    assert PCAEllipsoid(n_components=25, covariance="full").fit(Z).n_components_ == 9


def test_pca_ellipsoid_normal_matches_covariance(gaussian):
    gen = PCAEllipsoid(bound="ball", limit=50.0).fit(gaussian.Z)
    assert gen.limit_ == 50.0 and gen.acceptance_ == pytest.approx(1.0)
    assert np.allclose(gen.components_ @ gen.components_.T, np.eye(5), atol=1e-10)
    assert np.all(np.diff(gen.explained_variance_) <= 0)
    assert gen.explained_variance_ratio_ == pytest.approx(1.0)
    X = gen.sample(20_000, random_state=0)
    assert np.allclose(X.mean(axis=0), gen.mean_, atol=0.08)
    assert _cov_close(X, np.cov(gaussian.Z, rowvar=False))


def test_pca_ellipsoid_default_limit_is_q99(gaussian):
    gen = PCAEllipsoid(bound="ball").fit(gaussian.Z)
    model = MahalanobisModel().fit(gaussian.Z)
    assert gen.limit_ == pytest.approx(np.quantile(model.distances_, 0.99), rel=1e-10)
    assert gen.limit_quantile_ == 0.99 and gen.real_inside_ == pytest.approx(0.99, abs=1e-3)
    assert gen.acceptance_ == pytest.approx(special.gammainc(2.5, gen.limit_**2 / 2))
    X = gen.sample(5000, random_state=1)
    r = model.distance(X)
    assert r.max() <= gen.limit_ * (1 + 1e-9)
    # A normal cut at its own 99th percentile: the bulk is untouched.
    assert np.median(r) == pytest.approx(np.median(model.distances_), rel=0.05)
    assert PCAEllipsoid(bound="ball", limit="q50").fit(gaussian.Z).limit_ == pytest.approx(
        np.median(model.distances_), rel=1e-10
    )


def test_pca_ellipsoid_uniform(gaussian):
    gen = PCAEllipsoid(bound="ball", limit=2.0, distribution="uniform").fit(gaussian.Z)
    r = MahalanobisModel().fit(gaussian.Z).distance(gen.sample(20_000, random_state=0))
    assert r.max() <= 2.0 * (1 + 1e-9)
    # Uniform in a 5-ball: P(radius <= s * limit) = s**5.
    for s in (0.5, 0.8, 0.95):
        assert np.mean(r <= 2.0 * s) == pytest.approx(s**5, abs=0.015)


def test_pca_ellipsoid_top_components(gaussian):
    gen = PCAEllipsoid(bound="ball", n_components=2).fit(gaussian.Z)
    assert gen.components_.shape == (2, 5)
    X = gen.sample(2000, random_state=0)
    # Off the top-2 plane every sample sits at the mean.
    full = PCAEllipsoid(n_components=5).fit(gaussian.Z)
    coords = (X - gen.mean_) @ full.components_.T
    assert np.abs(coords[:, 2:]).max() < 1e-9
    radii = np.sqrt(np.sum((coords[:, :2] / np.sqrt(gen.explained_variance_)) ** 2, axis=1))
    assert radii.max() <= gen.limit_ * (1 + 1e-9)
    assert gen.real_inside_ == pytest.approx(0.99, abs=1e-3)


def test_pca_ellipsoid_errors(gaussian):
    Z = gaussian.Z
    # A radius of 0.3 sigma in 5 dimensions keeps ~1e-4 of normal draws: refused, clearly.
    with pytest.raises(ValueError, match="distribution='uniform'"):
        PCAEllipsoid(bound="ball", limit=0.3).fit(Z)
    PCAEllipsoid(bound="ball", limit=0.3, distribution="uniform").fit(Z).sample(10, 0)
    for kwargs in (
        {"bound": "ball", "limit": "p99"},
        {"bound": "ball", "limit": "q0"},
        {"bound": "ball", "limit": "q101"},
        {"bound": "ball", "limit": -1.0},
        {"bound": "ball", "limit": True},
        {"bound": "box"},
        {"c": 0.0},
        {"c": -1.0},
        {"c": float("inf")},
        {"c": "2"},
        {"bound": "plane", "r": True},
        {"bound": "plane", "r": float("nan")},
        {"distribution": "cauchy"},
        {"n_components": 0},
        {"n_components": 6},
        {"n_components": 2.0},
        {"bound": "ball", "limit": None, "distribution": "uniform"},
    ):
        with pytest.raises(ValueError):
            PCAEllipsoid(**kwargs).fit(Z)
    with pytest.raises(ValueError, match="no variance"):
        PCAEllipsoid().fit(np.ones((10, 3)))


def test_pca_rejection_large_n_in_blocks(gaussian, monkeypatch):
    import latentatlas.generators.pca as pca

    monkeypatch.setattr(pca, "MAX_BLOCK_ENTRIES", 5 * 64)  # force many small batches
    gen = PCAEllipsoid(bound="ball", limit=1.5).fit(gaussian.Z)  # acceptance ~ 0.08
    X = gen.sample(500, random_state=0)
    assert X.shape == (500, 5)
    assert MahalanobisModel().fit(gaussian.Z).distance(X).max() <= 1.5 * (1 + 1e-9)


@pytest.fixture(scope="module")
def clusters():
    rng = np.random.default_rng(5)
    means = np.array([[10.0, 0, 0, 0], [0, 10.0, 0, 0], [0, 0, -10.0, 5.0]])
    weights = np.array([0.5, 0.3, 0.2])
    labels = rng.choice(3, size=3000, p=weights)
    scales = np.array([1.0, 0.5, 2.0])
    Z = means[labels] + rng.standard_normal((3000, 4)) * scales[labels, None]
    return Z, means, weights, scales


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_gaussian_mixture_recovers_clusters(clusters, covariance_type):
    Z, means, weights, scales = clusters
    gen = GaussianMixture(n_components=3, covariance_type=covariance_type).fit(Z)
    order = [int(np.argmin(np.linalg.norm(gen.means_ - m, axis=1))) for m in means]
    assert sorted(order) == [0, 1, 2]
    assert np.allclose(gen.means_[order], means, atol=0.15)
    assert np.allclose(gen.weights_[order], weights, atol=0.03)
    assert gen.converged_ and np.isfinite(gen.log_likelihood_)

    # Samples: component shares follow weights_, each cluster has its component's covariance.
    X = gen.sample(30_000, random_state=0)
    nearest = np.argmin(((X[:, None, :] - gen.means_[None]) ** 2).sum(axis=2), axis=1)
    assert np.allclose(np.bincount(nearest, minlength=3) / len(X), gen.weights_, atol=0.015)
    for k in range(3):
        cov_k = {
            "full": lambda k=k: gen.covariances_[k],
            "tied": lambda k=k: gen.covariances_,
            "diag": lambda k=k: np.diag(gen.covariances_[k]),
            "spherical": lambda k=k: gen.covariances_[k] * np.eye(4),
        }[covariance_type]()
        Xk = X[nearest == k]
        assert np.allclose(Xk.mean(axis=0), gen.means_[k], atol=0.1)
        assert _cov_close(Xk, cov_k, rtol=0.08)


def test_gaussian_mixture_fit_is_seeded_sampling_is_ours(clusters):
    Z = clusters[0]
    a = GaussianMixture(n_components=3, random_state=1).fit(Z)
    b = GaussianMixture(n_components=3, random_state=1).fit(Z)
    assert np.array_equal(a.means_, b.means_)
    # Sampling does not touch the estimator's random state: only the seed given to sample().
    b.estimator_.random_state = 99
    assert np.array_equal(a.sample(100, random_state=5), b.sample(100, random_state=5))
    info = a.fitted_params()
    assert info["n_components"] == 3 and info["covariance_type"] == "full"
    assert len(info["weights"]) == 3 and info["log_likelihood"] == a.log_likelihood_


def test_gaussian_mixture_bad_covariance_type(clusters):
    with pytest.raises(ValueError, match="covariance_type"):
        GaussianMixture(covariance_type="banded").fit(clusters[0])
