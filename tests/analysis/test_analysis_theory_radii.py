from __future__ import annotations

import json

import numpy as np
import pytest

from latentatlas.analysis import (
    cube_radius_monte_carlo,
    cube_radius_theory,
    fit_cube_b,
    radii,
    radius_comparison,
    theory_table,
    union_coverage,
)
from latentatlas.generators import UniformCube


def test_theory_closed_forms():
    th = cube_radius_theory(256, 1.5)
    assert th["mean_r2"] == pytest.approx(256 * 1.5**2 / 3)
    assert th["sigma_r"] == pytest.approx(1.5 / np.sqrt(15))
    assert th["mean_r"] == pytest.approx(1.5 * np.sqrt(256 / 3 - 1 / 15))
    assert th["rel_width"] == pytest.approx(1 / np.sqrt(5 * 256))
    with pytest.raises(ValueError):
        cube_radius_theory(0, 1.0)
    with pytest.raises(ValueError):
        cube_radius_theory(3, -1.0)


@pytest.mark.parametrize("N", [10, 32, 256])
def test_theory_matches_monte_carlo(N):
    b = 1.3
    th = cube_radius_theory(N, b)
    mc = cube_radius_monte_carlo(N, b, n=20000, random_state=1)
    n = mc["n"]
    # <R^2> is exact: within 5 standard errors (Var R^2 = 4 N b^4 / 45).
    assert abs(mc["mean_r2"] - th["mean_r2"]) < 5 * np.sqrt(th["var_r2"] / n)
    assert mc["var_r2"] == pytest.approx(th["var_r2"], rel=0.05)
    # Delta-method approximations: relative error small for N >= 10.
    assert mc["mean_r"] == pytest.approx(th["mean_r"], rel=0.005)
    assert mc["sigma_r"] == pytest.approx(th["sigma_r"], rel=0.04)
    assert mc["rel_width"] == pytest.approx(th["rel_width"], rel=0.04)


def test_sigma_r_tends_to_b_over_sqrt15_and_table():
    tt = theory_table(Ns=(2, 10, 1024), b=2.0, n=10000, random_state=0)
    assert [r["N"] for r in tt.rows] == [2, 10, 1024]
    big = tt.rows[-1]
    assert big["mc_sigma_r"] == pytest.approx(2.0 / np.sqrt(15), rel=0.03)
    assert big["relerr_mean_r"] < 0.001 and big["relerr_rel_width"] < 0.03
    # The shell narrows: relative width decreases with N.
    widths = [r["mc_rel_width"] for r in tt.rows]
    assert widths == sorted(widths, reverse=True)
    assert tt.radii[10].shape == (10000,)
    assert theory_table(Ns=(2, 10, 1024), b=2.0, n=10000).to_dict() == tt.to_dict()
    json.dumps(tt.to_dict(), allow_nan=False)
    assert "1024" in tt.to_text()


def test_fit_cube_b_recovers_b_and_is_linear():
    rng = np.random.default_rng(5)
    for N, b in ((16, 0.7), (64, 1.7)):
        X = rng.uniform(-b, b, (5000, N))
        r = radii(X)
        assert fit_cube_b(r, N) == pytest.approx(b, rel=0.01)
        assert fit_cube_b(3.0 * r, N) == pytest.approx(3.0 * fit_cube_b(r, N), rel=1e-12)
    with pytest.raises(ValueError):
        fit_cube_b([], 4)


def test_radius_comparison():
    rng = np.random.default_rng(6)
    X = rng.uniform(-1.5, 1.5, (4000, 32))
    res = radius_comparison(X, random_state=0, n_mc=5000)
    assert res.b_fitted == pytest.approx(1.5, rel=0.01)
    assert res.bs == sorted(res.bs) and res.b_fitted in res.bs and len(res.bs) == 4
    assert res.b_best == res.b_fitted
    assert np.array_equal(res.real_radii, radii(X))
    assert res.cube_radii[res.b_fitted].shape == (5000,)
    assert res.wasserstein[res.b_fitted] < 0.05 * res.summary["mean"]
    json.dumps(res.to_dict(), allow_nan=False)
    given = radius_comparison(X, bs=[1.0, 2.0], b_fit=1.5, n_mc=5000)
    assert given.bs == [1.0, 1.5, 2.0] and given.b_fitted == 1.5
    with pytest.raises(ValueError):
        radius_comparison(X, b_fit=None)


def test_union_coverage():
    bs = (1.0, 2.0, 3.0)
    Z = UniformCube(b=bs).fit(np.zeros((2, 64))).sample(6000, random_state=0)
    cov = union_coverage(radii(Z), bs, 64, n_mc=5000)
    assert cov["bs"] == list(bs) and len(cov["shells"]) == 3
    # Each shell is the 1st-99th percentile: ~2 % of its own points fall outside it.
    assert cov["share_missed"] < 0.05
    for s in cov["shells"]:
        assert s["r_low"] < s["r_high"] and s["share_real"] == pytest.approx(1 / 3, abs=0.03)
    assert cov["share_missed"] == pytest.approx(
        cov["share_below"] + cov["share_above"] + cov["share_between"]
    )
    # Gaussian radii spread far wider than three thin shells.
    G = np.random.default_rng(1).standard_normal((6000, 64)) * np.linspace(0.2, 3, 64)
    gcov = union_coverage(radii(G), (0.5, 1.0), 64, n_mc=5000)
    assert gcov["share_missed"] > 0.5 and gcov["share_above"] > 0.5
    json.dumps(gcov, allow_nan=False)
