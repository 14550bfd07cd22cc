"""Block statistics: the streaming and Dask paths equal the in-memory one; the covariance at
high N (Gram route, Ledoit–Wolf when n <= N, randomized top-k)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.covariance import LedoitWolf

from latentatlas.analysis import MahalanobisModel, component_stats, slice_scan
from latentatlas.analysis import gaussian as gaussian_module
from latentatlas.analysis.blockstats import (
    DaskDriver,
    LocalDriver,
    channel_statistics,
    dask_array,
    slice_counts_all,
    store_statistics,
)


@pytest.fixture(scope="module")
def points(tmp_path_factory) -> np.ndarray:
    """A memory-mapped float32 store of 503 skewed, correlated points in N = 12 (3 x 2 x 2)."""
    rng = np.random.default_rng(3)
    Z = rng.gamma(2.0, 1.0, (503, 12)) @ rng.standard_normal((12, 12)) * 0.3 + 0.5
    path = tmp_path_factory.mktemp("blocks") / "z.npy"
    np.save(path, Z.astype(np.float32))
    return np.load(path, mmap_mode="r")


def _same(a, b) -> None:
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_streaming_statistics_equal_in_memory(points):
    st = store_statistics(LocalDriver(points, rows=37))  # 14 blocks, the last one short
    X = np.asarray(points, dtype=np.float64)
    _same(st.mean, X.mean(axis=0))
    _same(st.covariance, np.cov(X, rowvar=False))
    _same(st.radii, np.linalg.norm(X, axis=1))
    _same(st.minimum, X.min(axis=0))
    ref = component_stats(X)
    got = component_stats(points)
    for key in ("std", "skewness", "kurtosis"):
        _same(getattr(got, key), getattr(ref, key))
    _same(ref.skewness, stats.skew(X, axis=0, bias=False))
    # The per-channel hook: channel c holds components 4c .. 4c + 3 (C x H x W = 3 x 2 x 2).
    ch = channel_statistics(LocalDriver(points, rows=50), channels=3)
    values = X.reshape(len(X), 3, 4).transpose(1, 0, 2).reshape(3, -1)
    _same(ch["mean"], values.mean(axis=1))
    _same(ch["std"], values.std(axis=1))
    _same(ch["kurtosis"], stats.kurtosis(values, axis=1))


def test_dask_cluster_equals_in_memory(points):
    distributed = pytest.importorskip("distributed")
    local = LocalDriver(points)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        remote = DaskDriver(dask_array(points, rows=64))  # workers read their rows from the file
        assert remote.darr.numblocks[0] == 8
        got = store_statistics(remote)
        model = MahalanobisModel().fit(points, statistics=got, driver=remote)
        part = slice_counts_all(remote, 0.9)
    ref = store_statistics(local)
    for key in ("mean", "minimum", "maximum", "m2", "m3", "m4", "covariance", "radii"):
        _same(getattr(got, key), getattr(ref, key))
    assert got.sum_r4 == pytest.approx(ref.sum_r4, rel=1e-10)
    _same(model.distances_, MahalanobisModel().fit(np.asarray(points, np.float64)).distances_)
    scan, direct = slice_scan(points, 0.9, partial=part), slice_scan(points, 0.9)
    assert np.array_equal(scan.counts, direct.counts)


def test_ledoit_wolf_when_fewer_points_than_dimensions():
    """n < N: the Gram route with Ledoit–Wolf distances equal to scikit-learn's, never the
    degenerate pseudo-inverse (under which every fitted point has the same distance)."""
    rng = np.random.default_rng(0)
    Z = (rng.standard_normal((30, 80)) * np.linspace(0.2, 2.0, 80) + 1.0).astype(np.float32)
    model = MahalanobisModel().fit(Z)
    assert (model.method_, model.estimator_) == ("gram", "ledoit-wolf")
    assert model.rank_ == 29 and model.rank_deficient_
    X = Z.astype(np.float64)
    lw = LedoitWolf().fit(X)
    assert model.shrinkage_ == pytest.approx(lw.shrinkage_, rel=1e-8)
    other = rng.standard_normal((3, 80))
    np.testing.assert_allclose(model.distance(other) ** 2, lw.mahalanobis(other), rtol=1e-8)
    np.testing.assert_allclose(model.distances_**2, lw.mahalanobis(X), rtol=1e-8)


def test_high_dimension_few_points():
    """N = 4,500 (above the dense size) from 25 points: no (N, N) matrix, finite distances."""
    rng = np.random.default_rng(2)
    Z = (rng.standard_normal((25, 4500)) * 0.5 + 0.2).astype(np.float32)
    model = MahalanobisModel().fit(Z)
    assert (model.method_, model.estimator_, model.rank_) == ("gram", "ledoit-wolf", 24)
    assert model.eigenvectors_.shape == (4500, 24) and 0 < model.shrinkage_ <= 1
    assert np.isfinite(model.distance(np.zeros(4500))).all()
    with pytest.raises(ValueError, match="no dense covariance"):
        model.covariance_  # noqa: B018


def test_randomized_top_eigenpairs(monkeypatch):
    """Above the dense and Gram sizes (lowered here): the top eigenvalues by randomized subspace
    iteration match the exact ones; the rest is one isotropic variance."""
    monkeypatch.setattr(gaussian_module, "DENSE_MAX_N", 16)
    monkeypatch.setattr(gaussian_module, "GRAM_MAX_N", 100)
    monkeypatch.setattr(gaussian_module, "RANDOMIZED_RANK", 8)
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((400, 40)) * np.r_[np.linspace(5, 2, 8), np.full(32, 0.5)]
    model = MahalanobisModel().fit(Z)
    assert (model.method_, model.estimator_) == ("randomized", "ppca")
    exact = np.linalg.eigvalsh(np.cov(Z, rowvar=False))[::-1]
    np.testing.assert_allclose(model.eigenvalues_, exact[:8], rtol=1e-3)
    assert model.total_variance_ == pytest.approx(exact.sum(), rel=1e-10)
    d = model.distance(Z)
    assert np.median(d**2) == pytest.approx(stats.chi2.ppf(0.5, 40), rel=0.1)
