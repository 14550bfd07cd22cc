"""score_samples is a normalised log-density of exactly what sample() draws, at any temperature."""

from __future__ import annotations

import numpy as np
import pytest
from generator_configs import CONFIGS
from scipy import stats

from latentatlas.generators import (
    GaussianMixture,
    MultivariateNormal,
    PCAEllipsoid,
    UniformCube,
    make_generator,
)


@pytest.fixture(scope="module")
def fitted(small):
    return {name: factory().fit(small) for name, factory in CONFIGS.items()}


class _Proposal:
    """Half a normal twice as wide as the generator's samples, half uniform on their bounding
    box: it covers the support of normals and of uniform bodies alike, so p / q stays bounded."""

    def __init__(self, gen):
        X = gen.sample(20_000, random_state=0)
        self.normal = stats.multivariate_normal(X.mean(axis=0), 2.0 * np.cov(X, rowvar=False))
        pad = 0.02 * (X.max(axis=0) - X.min(axis=0))
        self.lo, self.hi = X.min(axis=0) - pad, X.max(axis=0) + pad

    def rvs(self, n, rng):
        Y = self.normal.rvs(size=n, random_state=rng)
        box = rng.random(n) < 0.5
        Y[box] = rng.uniform(self.lo, self.hi, size=(int(box.sum()), len(self.lo)))
        return Y

    def pdf(self, Y):
        in_box = np.all((Y >= self.lo) & (Y <= self.hi), axis=1)
        return 0.5 * self.normal.pdf(Y) + 0.5 * in_box / np.prod(self.hi - self.lo)


@pytest.mark.parametrize("temperature", [1.0, 0.5])
@pytest.mark.parametrize("name", CONFIGS)
def test_density_integrates_to_one(fitted, small, name, temperature):
    gen = fitted[name]
    if gen._density_dim() < small.shape[1]:
        pytest.skip("density on a subspace: no 5-d integral")
    if name == "cube-union":
        pytest.skip(
            "a 0.5-wide cube inside a 2.0-wide one: too peaked for this proposal; its "
            "density is checked in closed form below"
        )
    gen.set_params(temperature=temperature)
    try:
        q = _Proposal(gen)
        Y = q.rvs(200_000, np.random.default_rng(1))
        w = np.exp(gen.score_samples(Y)) / q.pdf(Y)
        # Importance sampling: E_q[p / q] = integral of p = 1, to within 3 %.
        assert w.std() / np.sqrt(len(w)) < 0.01
        assert w.mean() == pytest.approx(1.0, abs=0.03)
    finally:
        gen.set_params(temperature=1.0)


@pytest.mark.parametrize("name", CONFIGS)
def test_own_samples_are_in_support_and_temperature_scales(fitted, name):
    gen = fitted[name]
    X1 = gen.sample(300, random_state=3)
    s1 = gen.score_samples(X1)
    assert s1.shape == (300,) and np.isfinite(s1).all()
    gen.set_params(temperature=0.25)
    try:
        Xt = gen.sample(300, random_state=3)
        c = gen._center()
        # Same seed: the same draws, scaled about the centre (variance x 0.0625).
        assert np.allclose(Xt - c, 0.25 * (X1 - c), atol=1e-9)
        # Change of variables: log p_t(c + t (x - c)) = log p_1(x) - d log t.
        expected = s1 - gen._density_dim() * np.log(0.25)
        assert np.allclose(gen.score_samples(Xt), expected, rtol=1e-9, atol=1e-7)
    finally:
        gen.set_params(temperature=1.0)


def test_log_density_matches_reference_implementations(small, gaussian):
    mvn = MultivariateNormal().fit(gaussian.Z)
    ref = stats.multivariate_normal(mvn.mean_, mvn.covariance_)
    X = gaussian.Z[:500]
    assert np.allclose(mvn.score_samples(X), ref.logpdf(X), rtol=1e-10)
    gmm = GaussianMixture(n_components=3).fit(small)
    assert np.allclose(gmm.score_samples(small), gmm.estimator_.score_samples(small))
    # The study's per-axis sampler: a product of truncated normals in the PCA frame.
    pca = PCAEllipsoid(c=1.5).fit(gaussian.Z)
    U = (X - pca.mean_) @ pca.components_.T / np.sqrt(pca.explained_variance_)
    ref_pca = stats.truncnorm(-1.5, 1.5).logpdf(U).sum(axis=1) - 0.5 * np.sum(
        np.log(pca.explained_variance_)
    )
    assert np.allclose(pca.score_samples(X), ref_pca, rtol=1e-10)
    assert (np.isfinite(ref_pca) == np.isfinite(pca.score_samples(X))).all()
    cube = UniformCube(b=[1.0, 3.0]).fit(small)
    s = cube.score_samples(np.array([[0.5] * 5, [2.0] * 5, [4.0] * 5]))
    N = 5
    assert s[0] == pytest.approx(np.log(0.5 * 2.0**-N + 0.5 * 6.0**-N))
    assert s[1] == pytest.approx(np.log(0.5 * 6.0**-N)) and s[2] == -np.inf


def test_rank_deficient_density_lives_on_the_span():
    Z = np.random.default_rng(0).standard_normal((10, 30)) + 2.0
    mvn = MultivariateNormal(covariance="full").fit(Z)
    assert mvn._density_dim() == 9
    assert np.isfinite(mvn.score_samples(mvn.sample(20, random_state=0))).all()
    off = mvn.sample(20, random_state=1) + 0.1 * np.random.default_rng(2).standard_normal((20, 30))
    assert np.all(mvn.score_samples(off) == -np.inf)


def test_temperature_is_a_validated_saved_hyper_parameter(small, tmp_path):
    from latentatlas.generators import load_generator, save_generator

    gen = make_generator("mvn", temperature=0.5).fit(small)
    save_generator(gen, tmp_path / "g")
    back = load_generator(tmp_path / "g")
    assert back.temperature == 0.5
    assert np.array_equal(back.sample(10, random_state=0), gen.sample(10, random_state=0))
    for bad in (0.0, -1.0, float("nan"), True, "1"):
        gen.set_params(temperature=bad)
        with pytest.raises(ValueError, match="temperature"):
            gen.sample(3, random_state=0)
    with pytest.raises(ValueError, match="components"):
        MultivariateNormal().fit(small).score_samples(np.zeros((2, 4)))
