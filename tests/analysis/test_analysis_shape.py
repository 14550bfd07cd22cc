from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from latentatlas.analysis import (
    MahalanobisModel,
    auto_pairs,
    confidence_ellipse,
    correlations,
    shape,
)


def test_correlations_recover_known_matrix(gaussian):
    res = correlations(gaussian.Z, top=3)
    s = np.sqrt(np.diag(gaussian.cov))
    true_r = gaussian.cov / np.outer(s, s)
    n = len(gaussian.Z)
    # SE(r) ~ (1 - r^2) / sqrt(n)
    assert np.all(np.abs(res.corr - true_r) <= 5 * (1 - true_r**2) / np.sqrt(n) + 1e-12)
    assert np.allclose(res.corr, np.corrcoef(gaussian.Z, rowvar=False), atol=1e-12)
    assert np.allclose(res.cov, np.cov(gaussian.Z, rowvar=False), rtol=1e-10)
    iu = np.triu_indices(6, 1)
    assert res.abs_r.shape == (15,)
    assert np.allclose(res.abs_r, np.abs(res.corr[iu]))
    assert res.max_abs_r == pytest.approx(np.abs(res.corr[iu]).max())
    assert res.median_abs_r == pytest.approx(np.median(np.abs(res.corr[iu])))
    # Strongest pairs: sorted, signs right, consistent with the matrix.
    for j1, j2, r in res.top_positive:
        assert j1 < j2 and r > 0 and r == pytest.approx(res.corr[j1, j2])
    for j1, j2, r in res.top_negative:
        assert j1 < j2 and r < 0 and r == pytest.approx(res.corr[j1, j2])
    pos = [r for *_, r in res.top_positive]
    assert pos == sorted(pos, reverse=True) and len(pos) <= 3
    assert res.top_positive[0][2] == pytest.approx(max(res.corr[iu]))
    json.dumps(res.to_dict(), allow_nan=False)
    shared = correlations(gaussian.Z, top=3, model=MahalanobisModel().fit(gaussian.Z))
    assert shared.to_dict() == res.to_dict()


def test_correlations_constant_component():
    rng = np.random.default_rng(0)
    Z = np.column_stack([rng.standard_normal(100), np.ones(100), rng.standard_normal(100)])
    res = correlations(Z)
    assert np.isfinite(res.corr).all()
    assert res.corr[1, 1] == 1.0 and res.corr[0, 1] == 0.0


def test_shape_known_gaussian(gaussian):
    res = shape(gaussian.Z, b=2.0)
    n = len(gaussian.Z)
    # Sample eigenvalues: SE ~ lambda * sqrt(2/n).
    assert np.all(
        np.abs(res.eigenvalues - gaussian.eigenvalues) < 5 * gaussian.eigenvalues * np.sqrt(2 / n)
    )
    assert np.all(np.diff(res.eigenvalues) <= 0)
    assert res.explained_ratio.sum() == pytest.approx(1.0)
    # 9 / 16.75 = 0.537 -> 1 axis holds 50 %; (9+4+2+1) / 16.75 = 0.955 -> 4 axes for 90 %;
    # 99 % needs all but the last (16.5 / 16.75 = 0.985) -> 6.
    assert res.axes_for == {"0.5": 1, "0.9": 4, "0.99": 6}
    assert np.allclose(res.semi_axes, np.sqrt(res.eigenvalues))
    assert np.allclose(res.components @ res.components.T, np.eye(6), atol=1e-10)
    assert np.allclose(res.centroid, gaussian.mean, atol=0.1)
    assert res.centroid_norm == pytest.approx(np.linalg.norm(gaussian.mean), abs=0.1)
    # The origin's Mahalanobis distance against the true parameters.
    d0 = np.sqrt(gaussian.mean @ np.linalg.solve(gaussian.cov, gaussian.mean))
    assert res.origin_mahalanobis == pytest.approx(d0, rel=0.03)
    # For a normal sample, d^2 ~ chi^2(N): share further out = chi2.sf(d0^2, N).
    expected = stats.chi2.sf(res.origin_mahalanobis**2, 6)
    assert res.share_further_than_origin == pytest.approx(expected, abs=4 * np.sqrt(0.25 / n))
    assert res.share_in_cube == np.mean(np.all(np.abs(gaussian.Z) <= 2.0, axis=1))
    assert shape(gaussian.Z).share_in_cube is None
    # A shared fitted model gives the same numbers.
    model = MahalanobisModel().fit(gaussian.Z)
    assert shape(gaussian.Z, b=2.0, model=model).to_dict() == res.to_dict()
    json.dumps(res.to_dict(), allow_nan=False)
    with pytest.raises(ValueError, match="b must be"):
        shape(gaussian.Z, b=-1.0)


def test_confidence_ellipse_is_the_mahalanobis_contour():
    mean2 = np.array([1.0, -2.0])
    cov2 = np.array([[4.0, 1.5], [1.5, 1.0]])
    poly = confidence_ellipse(mean2, cov2, 3.0, n_points=64)
    assert poly.shape == (65, 2) and np.array_equal(poly[0], poly[-1])
    d = poly - mean2
    m = np.sqrt(np.einsum("ij,jk,ik->i", d, np.linalg.inv(cov2), d))
    assert np.allclose(m, 3.0)


def test_auto_pairs_picks_components_furthest_from_origin():
    rng = np.random.default_rng(4)
    Z = rng.standard_normal((500, 10))
    Z[:, 7] += 9.0
    Z[:, 2] -= 7.0
    Z[:, 5] += 5.0
    Z[:, 0] += 3.0
    assert auto_pairs(Z, k=2) == [(2, 7), (0, 5)]
    assert auto_pairs(Z, k=2) == auto_pairs(Z.copy(), k=2)  # deterministic
    # Too few components for disjoint pairs: fill with overlapping ones, no duplicates.
    pairs = auto_pairs(Z[:, [7, 2, 5]], k=3)
    assert sorted(pairs) == [(0, 1), (0, 2), (1, 2)] and pairs[0] == (0, 1)
    assert auto_pairs(Z[:, :1], k=3) == []
