from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from latentatlas.analysis import (
    MahalanobisModel,
    component_stats,
    extreme_components,
    henze_zirkler,
    normality,
    trim_outliers,
)


def test_mahalanobis_model_recovers_known_gaussian(gaussian):
    model = MahalanobisModel().fit(gaussian.Z)
    n = len(gaussian.Z)
    # Standard errors: mean sqrt(var/n); covariance entries ~ sqrt((s_ii s_jj + s_ij^2)/n).
    se_mean = np.sqrt(np.diag(gaussian.cov) / n)
    assert np.all(np.abs(model.mean_ - gaussian.mean) < 5 * se_mean)
    s = np.diag(gaussian.cov)
    se_cov = np.sqrt((np.outer(s, s) + gaussian.cov**2) / n)
    assert np.all(np.abs(model.covariance_ - gaussian.cov) < 5 * se_cov)
    assert np.allclose(model.precision_ @ model.covariance_, np.eye(6), atol=1e-10)
    # Distances against the textbook formula.
    X = gaussian.Z[:50]
    diff = X - model.mean_
    direct = np.sqrt(np.einsum("ij,jk,ik->i", diff, np.linalg.inv(model.covariance_), diff))
    assert np.allclose(model.distance(X), direct, rtol=1e-10)
    # Squared distances of a normal sample are chi^2(N): compare a few quantiles.
    d2 = model.distance(gaussian.Z) ** 2
    for q in (0.1, 0.5, 0.9, 0.99):
        assert np.quantile(d2, q) == pytest.approx(stats.chi2.ppf(q, 6), rel=0.05)


def test_mahalanobis_model_rank_deficient_and_errors():
    rng = np.random.default_rng(0)
    B = rng.standard_normal((40, 3))
    Z = B @ rng.standard_normal((3, 8))  # rank 3 in 8 dimensions, and n = 40 < N^2
    model = MahalanobisModel().fit(Z)
    assert model.rank_ == 3
    d = model.distance(Z)
    assert np.isfinite(d).all()
    # Within the span the pseudo-inverse distance equals the distance in the 3-D coordinates.
    ref = MahalanobisModel().fit(B).distance(B)
    assert np.allclose(d, ref, rtol=1e-6)
    assert model.distance(np.zeros(8)).shape == (1,)
    with pytest.raises(ValueError, match="components"):
        model.distance(np.zeros((2, 5)))
    with pytest.raises(Exception, match="not fitted"):
        MahalanobisModel().distance(Z)


def test_mahalanobis_model_reuses_fitted_distances(gaussian):
    model = MahalanobisModel().fit(gaussian.Z)
    assert model.distances_of(gaussian.Z.copy()) is model.distances_
    assert np.allclose(model.distances_, model.distance(gaussian.Z), rtol=1e-12)
    other = gaussian.Z[::-1]
    assert np.allclose(model.distances_of(other), model.distances_[::-1], rtol=1e-12)


def test_component_stats_known_moments():
    rng = np.random.default_rng(1)
    n = 20_000
    Z = np.column_stack(
        [
            rng.normal(2.0, 3.0, n),  # skew 0, excess kurtosis 0
            rng.exponential(1.0, n),  # skew 2, excess kurtosis 6
            rng.uniform(-1, 1, n),  # skew 0, excess kurtosis -1.2
            np.full(n, 4.0),  # constant
        ]
    )
    st = component_stats(Z)
    assert st.n == n
    assert st.mean[:3] == pytest.approx([2.0, 1.0, 0.0], abs=0.1)
    assert st.std[:3] == pytest.approx([3.0, 1.0, 1 / np.sqrt(3)], rel=0.03)
    assert st.skewness[0] == pytest.approx(0.0, abs=5 * np.sqrt(6 / n))
    assert st.skewness[1] == pytest.approx(2.0, abs=0.25)
    assert st.kurtosis[0] == pytest.approx(0.0, abs=5 * np.sqrt(24 / n))
    assert st.kurtosis[2] == pytest.approx(-1.2, abs=0.05)
    assert st.minimum[3] == st.maximum[3] == 4.0 and st.std[3] == 0.0
    assert np.isnan(st.skewness[3])
    # The same numbers scipy gives (bias-corrected skewness and excess kurtosis).
    assert np.allclose(st.skewness[:3], stats.skew(Z[:, :3], bias=False), rtol=1e-9)
    assert np.allclose(st.kurtosis[:3], stats.kurtosis(Z[:, :3], bias=False), rtol=1e-9)
    assert np.allclose(st.std[:3], Z[:, :3].std(axis=0, ddof=1), rtol=1e-12)
    # The exponential component is the most non-normal, then the uniform; constant comes last.
    assert extreme_components(st, k=2) == [1, 2]
    assert extreme_components(st, k=10) == [1, 2, 0, 3]
    json.dumps(st.to_dict(), allow_nan=False)


def test_trim_outliers_removes_planted_outliers():
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((2000, 5))
    Z[:20] += 15.0  # 1 % far away
    core, keep, radius = trim_outliers(Z, quantile=0.99)
    assert keep.sum() == len(core) == 1980
    assert not keep[:20].any()
    assert radius > 0
    core, keep, radius = trim_outliers(Z, quantile=1.0)
    assert keep.all()
    with pytest.raises(ValueError, match="quantile"):
        trim_outliers(Z, quantile=1.5)


def _hz_reference(X):
    """Henze–Zirkler exactly as written in pingouin.multivariate_normality / MVN (no blocking)."""
    n, p = X.shape
    S = np.cov(X, rowvar=False, bias=True)
    S_inv = np.linalg.pinv(S, hermitian=True)
    difT = X - X.mean(0)
    Dj = np.diag(difT @ S_inv @ difT.T)
    Y = X @ S_inv @ X.T
    Djk = -2 * Y.T + np.repeat(np.diag(Y.T), n).reshape(n, -1) + np.tile(np.diag(Y.T), (n, 1))
    b = 1 / np.sqrt(2) * ((2 * p + 1) / 4) ** (1 / (p + 4)) * n ** (1 / (p + 4))
    hz = n * (
        1 / n**2 * np.sum(np.exp(-(b**2) / 2 * Djk))
        - 2 * (1 + b**2) ** (-p / 2) * (1 / n) * np.sum(np.exp(-(b**2) / (2 * (1 + b**2)) * Dj))
        + (1 + 2 * b**2) ** (-p / 2)
    )
    wb = (1 + b**2) * (1 + 3 * b**2)
    a = 1 + 2 * b**2
    mu = 1 - a ** (-p / 2) * (1 + p * b**2 / a + (p * (p + 2) * (b**4)) / (2 * a**2))
    si2 = (
        2 * (1 + 4 * b**2) ** (-p / 2)
        + 2 * a ** (-p) * (1 + (2 * p * b**4) / a**2 + (3 * p * (p + 2) * b**8) / (4 * a**4))
        - 4 * wb ** (-p / 2) * (1 + (3 * p * b**4) / (2 * wb) + (p * (p + 2) * b**8) / (2 * wb**2))
    )
    pmu = np.log(np.sqrt(mu**4 / (si2 + mu**2)))
    psi = np.sqrt(np.log((si2 + mu**2) / mu**2))
    return hz, stats.lognorm.sf(hz, psi, scale=np.exp(pmu))


@pytest.mark.parametrize("n,p", [(60, 2), (300, 4), (500, 8)])
def test_henze_zirkler_matches_reference_formula(n, p):
    rng = np.random.default_rng(n + p)
    X = rng.standard_normal((n, p)) @ rng.standard_normal((p, p)) + 3.0
    X[:, 0] = np.exp(X[:, 0] / 3)  # make it non-normal so the p-value is not trivially ~1
    hz, pval = henze_zirkler(X, block_rows=37)  # odd block size: blocking must not matter
    hz_ref, p_ref = _hz_reference(X)
    assert hz == pytest.approx(hz_ref, rel=1e-9)
    assert pval == pytest.approx(p_ref, rel=1e-7, abs=1e-300)


def test_henze_zirkler_accepts_normal_rejects_non_normal():
    rng = np.random.default_rng(7)
    n, p = 500, 4
    normal = rng.multivariate_normal(np.zeros(p), np.eye(p) + 0.5, size=n)
    assert henze_zirkler(normal)[1] > 0.05
    assert henze_zirkler(rng.uniform(-1, 1, (n, p)))[1] < 1e-4
    assert henze_zirkler(rng.lognormal(0, 1, (n, p)))[1] < 1e-10
    # n not much larger than N (covariance close to singular but full rank): finite, accepted.
    stat, pval = henze_zirkler(rng.standard_normal((40, 20)))
    assert np.isfinite(stat) and 0.0 <= pval <= 1.0
    # Singular covariance (n <= N): statistic 4n as in MVN -> rejected.
    stat, pval = henze_zirkler(rng.standard_normal((10, 12)))
    assert stat == 40.0 and pval < 1e-6


def test_henze_zirkler_high_dimension_stays_finite():
    # The reference formulas round to NaN here (all terms ~1e-40); ours stay finite, and still
    # reject a strongly skewed sample.
    rng = np.random.default_rng(8)
    stat, pval = henze_zirkler(rng.standard_normal((600, 128)))
    assert np.isfinite(stat) and 0.05 < pval <= 1.0
    assert henze_zirkler(rng.lognormal(0, 1, (600, 128)))[1] < 1e-6


def test_normality_on_gaussian_and_on_uniform(gaussian):
    res = normality(gaussian.Z, sample=1000, random_state=0)
    assert res.n_used == 1000 and res.n_total == 20_000
    assert res.n_trimmed == 200  # 1 % beyond the 99th-percentile radius (continuous data)
    assert res.shapiro_p.shape == (6,)
    assert res.share_rejected <= 0.5  # 6 components at alpha 0.05: 3+ rejections ~ 1e-3
    assert res.hz_p_value > 0.01 and not res.hz_rejected
    assert res.trim_radius == pytest.approx(np.sqrt(stats.chi2.ppf(0.99, 6)), rel=0.05)
    again = normality(gaussian.Z, sample=1000, random_state=0)
    assert again.to_dict() == res.to_dict()  # same seed, same numbers
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["n_used"] == 1000 and d["sample"] == 1000

    U = np.random.default_rng(3).uniform(-1, 1, (3000, 5))
    res = normality(U, sample=None, trim_quantile=1.0)
    assert res.n_used == 3000 and res.n_trimmed == 0
    assert res.share_rejected == 1.0 and res.hz_rejected


def test_normality_caps_shapiro_and_reuses_model():
    Z = np.random.default_rng(4).standard_normal((6000, 2))
    res = normality(Z, sample=None)
    assert res.shapiro_n == 5000 and res.n_used == 5940 and res.n_trimmed == 60
    model = MahalanobisModel().fit(Z)
    assert normality(Z, sample=None, model=model).to_dict() == res.to_dict()
    core, keep, radius = trim_outliers(Z, model=model)
    assert radius == res.trim_radius and len(core) == res.n_used
