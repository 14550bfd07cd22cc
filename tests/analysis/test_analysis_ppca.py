"""The low-rank-plus-diagonal Gaussian: planted rank, exact density, Gram-matrix Ledoit-Wolf."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.covariance import ledoit_wolf_shrinkage

from latentatlas.analysis.ppca import LowRankGaussian, ledoit_wolf_shrinkage_gram, principal_frame


def _planted(n: int, N: int, rank: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((N, rank)) * np.linspace(3.0, 1.5, rank)
    return rng.standard_normal((n, rank)) @ W.T + 0.5 * rng.standard_normal((n, N)) + 1.0


@pytest.mark.parametrize(("n", "N"), [(200, 4096), (1500, 60)])
def test_heldout_likelihood_recovers_a_planted_rank(n, N):
    model = LowRankGaussian().fit(_planted(n, N, 6, seed=n))
    assert model.rank_ == 6
    assert model.noise_variance_ == pytest.approx(0.25, rel=0.1)
    assert int(np.argmax(model.heldout_loglik_)) == 6 and model.exact_


def test_density_distances_and_samples_match_the_explicit_covariance():
    Z = _planted(400, 40, 3, seed=1)
    model = LowRankGaussian(n_components=3).fit(Z)
    V, lam, s2 = model.components_.T, model.explained_variance_, model.noise_variance_
    cov = (V * lam) @ V.T + s2 * (np.eye(40) - V @ V.T)
    np.testing.assert_allclose(
        model.logpdf(Z[:20]), stats.multivariate_normal(model.mean_, cov).logpdf(Z[:20]), rtol=1e-10
    )
    D = Z[:20] - model.mean_
    direct = np.einsum("ij,jk,ik->i", D, np.linalg.inv(cov), D)
    np.testing.assert_allclose(model.mahalanobis_sq(Z[:20]), direct, rtol=1e-9)
    W = model.factor()
    np.testing.assert_allclose(W @ W.T + s2 * np.eye(40), cov, atol=1e-10)
    S = model.sample(20_000, random_state=0)
    assert np.abs(np.cov(S, rowvar=False) - cov).max() < 0.05 * np.abs(cov).max()


def test_frames_agree_across_routes_and_trace_is_total_variance():
    Z = _planted(60, 50, 4, seed=3)
    wide = principal_frame(Z[:, :50])  # n > N: covariance route
    gram = principal_frame(Z[:40])  # n <= N: Gram route
    assert wide.axes.shape == (50, 50) and gram.axes.shape == (50, 39)
    np.testing.assert_allclose(wide.total_variance, np.trace(np.cov(Z, rowvar=False)), rtol=1e-12)
    cov40 = np.cov(Z[:40], rowvar=False)
    np.testing.assert_allclose(gram.variances, np.linalg.eigvalsh(cov40)[::-1][:39], rtol=1e-9)
    np.testing.assert_allclose(gram.axes.T @ gram.axes, np.eye(39), atol=1e-10)


def test_ledoit_wolf_from_the_gram_matrix_equals_scikit_learn():
    for n, N in ((30, 200), (300, 20)):
        Z = _planted(n, N, 3, seed=N)
        assert ledoit_wolf_shrinkage_gram(Z) == pytest.approx(ledoit_wolf_shrinkage(Z), rel=1e-10)


def test_bad_rank_requests_are_one_line_errors():
    Z = _planted(20, 10, 2, seed=0)
    with pytest.raises(ValueError, match="n_components"):
        LowRankGaussian(n_components="best").fit(Z)
    with pytest.raises(ValueError, match="too few"):
        LowRankGaussian().fit(Z[:3])
    with pytest.raises(ValueError, match="no variance"):
        LowRankGaussian(n_components=2).fit(np.ones((10, 4)))


def test_randomized_route_agrees_and_spectra_are_shared(monkeypatch):
    from latentatlas.analysis import ppca

    Z = _planted(300, 60, 4, seed=5)
    exact = principal_frame(Z, 10)
    monkeypatch.setattr(ppca, "EXACT_MAX_FEATURES", 50)  # n > N > 50: the randomized SVD
    fast = principal_frame(Z, 10)
    assert exact.exact and not fast.exact
    np.testing.assert_allclose(fast.variances, exact.variances, rtol=1e-8)
    np.testing.assert_allclose(np.abs(fast.axes.T @ exact.axes), np.eye(10), atol=1e-6)
    assert LowRankGaussian().fit(Z).rank_ == 4
    # The same points (by content, not identity) reuse one decomposition.
    assert ppca._spectrum(Z.copy(), 0) is ppca._spectrum(Z, 0)
