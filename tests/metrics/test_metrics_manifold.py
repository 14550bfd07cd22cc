from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics

from latentatlas.metrics import manifold, prdc

METRICS = ("precision", "recall", "density", "coverage")


def _dist(a, b):
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))


def direct_prdc(real, fake, k, inclusive=False):
    """Naeem et al. 2020 on full O(n m) distance matrices (the `prdc` package's logic, with
    distances computed directly as sqrt(sum of squared differences))."""
    inside = np.less_equal if inclusive else np.less
    r_real = np.partition(_dist(real, real), k, axis=1)[:, k]
    r_fake = np.partition(_dist(fake, fake), k, axis=1)[:, k]
    d = _dist(real, fake)
    in_real = inside(d, r_real[:, None])
    return {
        "precision": in_real.any(axis=0).mean(),
        "recall": inside(d, r_fake[None, :]).any(axis=1).mean(),
        "density": (1.0 / k) * in_real.sum(axis=0).mean(),
        "coverage": inside(d.min(axis=1), r_real).mean(),
    }


def _assert_same(got, want):
    for m in METRICS:
        assert got[m] == pytest.approx(want[m], rel=1e-12, abs=0), m


CASES = [
    # (n, m, N, fake scale, fake shift)
    (120, 90, 2, 1.0, 0.0),
    (200, 150, 8, 1.3, 0.4),
    (150, 220, 40, 1.1, 0.1),
    (64, 64, 300, 1.0, 0.02),
]


@pytest.mark.parametrize("n,m,N,scale,shift", CASES)
@pytest.mark.parametrize("k", [1, 5])
def test_prdc_matches_direct_computation(n, m, N, scale, shift, k):
    rng = np.random.default_rng(n + m + N + k)
    spread = np.linspace(0.5, 2.0, N)
    real = rng.standard_normal((n, N)) * spread
    fake = rng.standard_normal((m, N)) * spread * scale + shift
    got = prdc(real, fake, k=k, block_size=37)
    _assert_same(got, direct_prdc(real, fake, k))
    assert (got["n_real"], got["n_fake"], got["k"]) == (n, m, k)
    assert all(0.0 < got[x] for x in METRICS)  # a non-degenerate case


def test_prdc_matches_the_prdc_package_computation():
    """Against full sklearn pairwise_distances matrices, as the `prdc` package computes them."""
    rng = np.random.default_rng(0)
    real = rng.standard_normal((300, 16))
    fake = rng.standard_normal((250, 16)) * 1.2 + 0.2
    d_rr = sklearn.metrics.pairwise_distances(real, real)
    d_ff = sklearn.metrics.pairwise_distances(fake, fake)
    d = sklearn.metrics.pairwise_distances(real, fake)
    r_real = np.take_along_axis(d_rr, np.argpartition(d_rr, 6, axis=-1)[:, :6], -1).max(-1)
    r_fake = np.take_along_axis(d_ff, np.argpartition(d_ff, 6, axis=-1)[:, :6], -1).max(-1)
    ref = {
        "precision": (d < r_real[:, None]).any(axis=0).mean(),
        "recall": (d < r_fake[None, :]).any(axis=1).mean(),
        "density": 0.2 * (d < r_real[:, None]).sum(axis=0).mean(),
        "coverage": (d.min(axis=1) < r_real).mean(),
    }
    _assert_same(prdc(real, fake, k=5), ref)


def test_kth_neighbour_radii_are_exact():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((333, 12)) + 100.0  # a large offset: float32 alone would be far off
    S = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    for k in (1, 3, 7):
        want = np.partition(S, k, axis=1)[:, k]
        got = manifold.kth_neighbour_sq(X, k, block_size=50, max_block_elements=3000)
        assert np.array_equal(got, want)


def test_prdc_identical_sets():
    rng = np.random.default_rng(2)
    real = rng.standard_normal((250, 10))
    res = prdc(real, real.copy(), k=5)
    # Each real ball holds the point itself and its k-1 nearer neighbours, never the k-th one
    # (strict <): density is exactly 1.
    assert res["precision"] == res["recall"] == res["coverage"] == 1.0
    assert res["density"] == 1.0
    _assert_same(res, direct_prdc(real, real, 5))
    # With <= the k-th neighbour sits on the boundary and counts: density (k+1)/k.
    res = prdc(real, real, k=5, inclusive=True)
    assert res["density"] == pytest.approx(6 / 5)
    _assert_same(res, direct_prdc(real, real, 5, inclusive=True))


def test_prdc_disjoint_sets():
    rng = np.random.default_rng(3)
    real = rng.standard_normal((200, 6))
    res = prdc(real, rng.standard_normal((150, 6)) + 40.0, k=5)
    assert all(res[m] == 0.0 for m in METRICS)


@pytest.mark.parametrize("inclusive", [False, True])
def test_prdc_ties_on_discrete_data(inclusive):
    # Integer points: many distances equal a radius exactly, duplicates give radius 0.
    rng = np.random.default_rng(4)
    real = rng.integers(0, 3, (180, 5)).astype(float)
    fake = rng.integers(0, 3, (140, 5)).astype(float)
    _assert_same(
        prdc(real, fake, k=5, block_size=29, inclusive=inclusive),
        direct_prdc(real, fake, 5, inclusive=inclusive),
    )


def test_prdc_independent_of_blocking(monkeypatch):
    rng = np.random.default_rng(5)
    real = rng.standard_normal((260, 20))
    fake = rng.standard_normal((310, 20)) * 1.1 + 0.1
    want = direct_prdc(real, fake, 4)
    settings = [(1024, 2**24, 1), (1, 2**24, 2), (7, 500, 3), (64, 64, 2), (300, 10**9, None)]
    for block_size, max_elements, n_jobs in settings:
        got = prdc(
            real, fake, k=4, block_size=block_size, max_block_elements=max_elements, n_jobs=n_jobs
        )
        _assert_same(got, want)
    # Tiny candidate chunks exercise the bounded-memory chunking of candidate pairs.
    monkeypatch.setattr(manifold, "_CHUNK_PAIRS", 5)
    monkeypatch.setattr(manifold, "_EXACT_ELEMENTS", 50)
    _assert_same(prdc(real, fake, k=4, block_size=50), want)


def test_prdc_float64_screen_for_extreme_scales():
    rng = np.random.default_rng(6)
    real = rng.standard_normal((120, 4)) * 1e20  # beyond float32's safe range
    fake = rng.standard_normal((100, 4)) * 1.2e20
    assert manifold._Screen(real, fake, np.zeros(4)).dtype == np.float64
    _assert_same(prdc(real, fake, k=3), direct_prdc(real, fake, 3))


def test_prdc_validation():
    rng = np.random.default_rng(7)
    real = rng.standard_normal((10, 3))
    with pytest.raises(ValueError, match="at least 6 points"):
        prdc(real, real[:5], k=5)
    with pytest.raises(ValueError, match="dimensions"):
        prdc(real, rng.standard_normal((10, 4)), k=2)
    with pytest.raises(ValueError, match="k must"):
        prdc(real, real, k=0)
    with pytest.raises(ValueError, match="NaN"):
        prdc(real, np.full((10, 3), np.nan), k=2)
    with pytest.raises(ValueError, match="n_jobs"):
        prdc(real, real, k=2, n_jobs=0)
