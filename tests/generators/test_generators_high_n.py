"""Every generator at N = 4,096 with n = 200 < N: low-rank-plus-diagonal forms, principal
subspaces with a Gaussian rest, ranks chosen by held-out likelihood, save and load."""

from __future__ import annotations

import numpy as np
import pytest

from latentatlas.generators import (
    GENERATORS,
    MultivariateNormal,
    PCAEllipsoid,
    load_generator,
    make_generator,
    save_generator,
)

N, RANK = 4096, 5


@pytest.fixture(scope="module")
def wide() -> tuple[np.ndarray, np.ndarray]:
    """(200, 4096) training and (40, 4096) held-out points: rank-5 signal plus noise of
    variance 0.25."""
    rng = np.random.default_rng(18)
    W = rng.standard_normal((N, RANK)) * np.linspace(3.0, 1.5, RANK)

    def draw(n: int) -> np.ndarray:
        return rng.standard_normal((n, RANK)) @ W.T + 0.5 * rng.standard_normal((n, N)) - 1.0

    return draw(200), draw(40)


@pytest.fixture(scope="module")
def fitted(wide) -> dict:
    # The cube's Monte Carlo radii cost n_mc x N: fewer keep the fixture fast.
    params = {"cube": {"n_mc": 2000}}
    return {name: make_generator(name, **params.get(name, {})).fit(wide[0]) for name in GENERATORS}


@pytest.mark.parametrize("name", list(GENERATORS))
def test_every_generator_fits_samples_and_scores_at_high_n(fitted, wide, name):
    gen = fitted[name]
    X = gen.sample(30, random_state=0)
    assert X.shape == (30, N) and np.isfinite(X).all()
    np.testing.assert_array_equal(X, gen.sample(30, random_state=0))
    s = gen.score_samples(wide[1])
    assert s.shape == (40,) and not np.isnan(s).any()


@pytest.mark.parametrize("name", ["mvn", "gmm", "kde"])
def test_fitted_forms_find_the_planted_rank_and_score_held_out_points(fitted, wide, name):
    gen = fitted[name]
    info = gen.fitted_params()
    rank = info["rank"] if name == "mvn" else info["subspace"]["n_components"]
    assert rank == RANK
    # A density positive off the 199-dimensional span of the fit points: held-out points score.
    s = gen.score_samples(wide[1])
    assert np.isfinite(s).all()
    # ... and about as well as the true model would (noise variance 0.25: -0.77 nats per dim).
    assert np.mean(s) / N == pytest.approx(0.5 * -np.log(2 * np.pi * np.e * 0.25), abs=0.03)


def test_low_rank_mvn_reports_its_form_and_samples_its_covariance(fitted):
    mvn = fitted["mvn"]
    assert mvn.covariance_form_ == "low-rank+diag" and mvn.covariance_ is None
    assert mvn.noise_variance_ == pytest.approx(0.25, rel=0.05)
    X = mvn.sample(1000, random_state=1)
    # The variance along the top axis and along a direction orthogonal to all axes.
    v = mvn.components_[0]
    assert np.var(X @ v) == pytest.approx(mvn.eigenvalues_[0], rel=0.1)
    e = np.random.default_rng(0).standard_normal(N)
    e -= mvn.components_.T @ (mvn.components_ @ e)
    e /= np.linalg.norm(e)
    assert np.var(X @ e) == pytest.approx(mvn.noise_variance_, rel=0.1)
    shrunk = MultivariateNormal(shrinkage="ledoit-wolf").fit(X[:100])
    assert shrunk.covariance_form_ == "low-rank+diag" and 0 < shrunk.shrinkage_ < 1


def test_low_rank_pca_keeps_its_bound_on_the_axes_and_noise_off_them(fitted):
    pca = fitted["pca"]
    assert pca.covariance_form_ == "low-rank+diag" and pca.n_components_ == RANK
    X = pca.sample(200, random_state=2)
    U = (X - pca.mean_) @ pca.components_.T / np.sqrt(pca.explained_variance_)
    assert np.abs(U).max() <= pca.c
    assert PCAEllipsoid(n_components=3).fit(X).n_components_ == 3


def test_the_full_form_stays_where_it_fits():
    Z = np.random.default_rng(0).standard_normal((300, 40))
    assert MultivariateNormal().fit(Z).covariance_form_ == "full"
    assert MultivariateNormal(shrinkage=0.2).fit(Z).covariance_form_ == "shrunk"
    assert MultivariateNormal().fit(Z[:30]).covariance_form_ == "low-rank+diag"  # n <= N
    with pytest.raises(ValueError, match="covariance"):
        MultivariateNormal(covariance="diag").fit(Z)


@pytest.mark.parametrize("name", ["mvn", "pca", "gmm", "kde"])
def test_high_n_forms_save_and_load_exactly(fitted, wide, tmp_path, name):
    gen = fitted[name]
    back = load_generator(save_generator(gen, tmp_path / name))
    np.testing.assert_array_equal(back.sample(5, random_state=3), gen.sample(5, random_state=3))
    np.testing.assert_array_equal(back.score_samples(wide[1]), gen.score_samples(wide[1]))
