"""Fréchet distance against scipy's matrix square root, and the intervals around verdict numbers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from latentatlas.metrics.frechet import (
    FrechetReference,
    _fd,
    _fd_gram,
    frechet_distance,
    frechet_route,
    frechet_test,
)
from latentatlas.metrics.intervals import bootstrap_interval
from latentatlas.metrics.mmd import mmd_test


def _reference_fd(a: np.ndarray, b: np.ndarray) -> float:
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(s_a @ s_b).real
    mu = a.mean(0) - b.mean(0)
    return float(mu @ mu + np.trace(s_a) + np.trace(s_b) - 2 * np.trace(root))


def test_frechet_matches_the_textbook_formula() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 12))
    b = rng.normal(size=(300, 12)) @ rng.normal(size=(12, 12)) * 0.5 + 0.3
    assert frechet_distance(a, b) == pytest.approx(_reference_fd(a, b), rel=1e-8)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)


def test_the_gram_route_equals_the_covariance_route() -> None:
    rng = np.random.default_rng(3)
    for n, m, d in ((90, 70, 40), (50, 60, 20)):
        a = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) * 0.2
        b = rng.normal(size=(m, d)) * 1.5 + 0.2
        assert _fd_gram(a, b) == pytest.approx(_fd(a, b), rel=1e-8)
    # Where d > n the covariance route takes square roots of rounding-level eigenvalues
    # (~1e-8 relative error): the routes agree more loosely there.
    a, b = rng.normal(size=(30, 120)), rng.normal(size=(25, 120)) + 0.1
    assert _fd_gram(a, b) == pytest.approx(_fd(a, b), rel=1e-6)
    assert frechet_route(4096, 500, 400) == "gram"
    assert frechet_route(256, 100, 100) == frechet_route(64, 500, 400) == "covariance"
    # Above 1,024 dimensions and both sample sizes the public functions take the Gram route.
    a, b = rng.normal(size=(30, 1100)), rng.normal(size=(25, 1100)) + 0.1
    out = frechet_test(a, b, n_boot=10, resample_a=False)
    assert out["route"] == "gram" and out["fd"] == _fd_gram(a, b) == frechet_distance(a, b)
    assert out["ci95"][0] <= out["ci95"][1]


def test_a_reference_computed_once_gives_the_same_numbers() -> None:
    rng = np.random.default_rng(4)
    ref = rng.normal(size=(120, 10)) @ rng.normal(size=(10, 10))
    fixed = FrechetReference(ref)
    for shift in (0.0, 0.7):
        b = rng.normal(size=(90, 10)) + shift
        same = frechet_test(ref, b, n_boot=20, resample_a=False)
        assert frechet_test(fixed, b, n_boot=20) == same
    # The Gram route (d above 1,024 and both sample sizes) keeps its points.
    a, b = rng.normal(size=(30, 1100)), rng.normal(size=(25, 1100)) + 0.1
    assert frechet_test(FrechetReference(a), b, n_boot=10) == frechet_test(
        a, b, n_boot=10, resample_a=False
    )


def test_frechet_of_known_gaussians() -> None:
    # N(0, I) vs N(m, 4 I) in d dims: |m|^2 + d (1 + 4 - 2 * 2) = |m|^2 + d.
    rng = np.random.default_rng(1)
    d = 5
    a = rng.normal(size=(200_000, d))
    b = 2 * rng.normal(size=(200_000, d)) + 1.0
    assert frechet_distance(a, b) == pytest.approx(d * 1.0 + d, rel=0.02)


def test_frechet_interval_covers_the_estimate_and_narrows_with_n() -> None:
    rng = np.random.default_rng(2)
    widths = []
    for n in (200, 2000):
        a, b = rng.normal(size=(n, 8)), rng.normal(size=(n, 8)) + 0.5
        r = frechet_test(a, b, n_boot=50, random_state=0)
        lo, hi = r["ci95"]
        assert lo <= r["fd"] <= hi
        widths.append(hi - lo)
    assert widths[1] < widths[0] / 2
    with pytest.raises(ValueError, match="different dimensions"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))


def test_bootstrap_interval_of_a_mean_matches_the_normal_one() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=4000)
    lo, hi = bootstrap_interval(lambda s: float(s.mean()), (x,), n_boot=400, random_state=0)
    half = 1.96 * x.std() / np.sqrt(len(x))
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.15)
    assert lo < x.mean() < hi
    same = bootstrap_interval(lambda s: float(s.mean()), (x,), n_boot=400, random_state=0)
    assert same == (lo, hi)  # same seed, same numbers


def test_mmd_interval_separates_what_the_test_separates() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(500, 6)), rng.normal(size=(500, 6))
    same = mmd_test(a, b, random_state=0)
    diff = mmd_test(a, 1.3 * b, random_state=0)
    assert same["ci95"][0] <= 0.0 <= same["ci95"][1]
    assert diff["ci95"][0] > same["ci95"][1]
    assert diff["p_value"] < 0.01 < same["p_value"]


def test_a_fixed_reference_gives_a_narrower_interval_around_the_same_estimate() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(500, 8)), rng.normal(size=(500, 8)) + 0.3
    both = frechet_test(a, b, random_state=0)
    fixed = frechet_test(a, b, random_state=0, resample_a=False)
    assert fixed["fd"] == both["fd"]
    assert fixed["ci95"][0] <= fixed["fd"] <= fixed["ci95"][1]
    assert fixed["ci95"][1] - fixed["ci95"][0] < both["ci95"][1] - both["ci95"][0]
