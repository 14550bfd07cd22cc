"""The atlas above its dense sizes, with n < N: every section runs, the page says which method
it used. The size thresholds are lowered so the high-N code paths run on a small array."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from report_data import FAST

from latentatlas.analysis import blockstats, correlation, slices
from latentatlas.analysis import gaussian as gaussian_module
from latentatlas.atlas import inputs, run_atlas


def test_atlas_with_fewer_points_than_dimensions_above_the_dense_sizes(
    tmp_path: Path, monkeypatch
) -> None:
    for module in (blockstats, gaussian_module):
        monkeypatch.setattr(module, "DENSE_MAX_N", 40)
    monkeypatch.setattr(correlation, "MAX_COMPONENTS", 30)
    monkeypatch.setattr(slices, "MAX_SCAN_PAIRS", 500)
    monkeypatch.setattr(inputs, "ARTIFICIAL_VALUES", 1000 * 120)
    rng = np.random.default_rng(4)
    z = (rng.standard_normal((50, 120)) * np.linspace(0.3, 1.5, 120) + 0.4).astype(np.float32)
    s = run_atlas(z, tmp_path / "a", progress=False, mc=200, **FAST)  # n < 60: no section 10
    cov = s["settings"]["covariance"]
    assert (cov["method"], cov["estimator"], cov["rank"]) == ("gram", "ledoit-wolf", 49)
    assert cov["rank_deficient"] and 0 < cov["shrinkage"] <= 1
    assert s["correlations"]["sampled"] and s["correlations"]["components_used"] == 30
    assert s["correlations"]["n_pairs"] == 30 * 29 // 2
    scan = s["slices"]["scan"]
    assert scan["sampled"] and scan["n_pairs"] == 120 * 119 // 2
    assert scan["n_pairs_evaluated"] < scan["n_pairs"]
    assert len(s["shape"]["eigenvalues"]) == 49  # the non-zero spectrum, exactly
    assert s["components"]["per_component"]["quantiles"]["std"][0] > 0
    html = (tmp_path / "a" / "index.html").read_text()
    assert "Ledoit–Wolf shrinkage" in html and "Gram matrix" in html
    assert "random 30 of the components" in html


def test_the_memory_estimate_counts_the_artificial_points_not_the_store(monkeypatch) -> None:
    # The store stays memory-mapped, so its n must not enter the estimate (a 4M x 256 store was
    # refused as needing 30 GiB); the artificial sets are capped at ARTIFICIAL_VALUES // N rows.
    from latentatlas.atlas import run as run_module
    from latentatlas.core import validation
    from latentatlas.core.errors import LatentAtlasError

    assert inputs.artificial_points(20000, 256) == 20000
    assert inputs.artificial_points(20000, 65536) == 1000
    z = np.random.default_rng(0).standard_normal((5000, 16))
    settings = dict(
        sample=2000, seed=0, prdc_sample=200, plot_points=100, mc=100, normality_sample=100,
        fragment_sample=100, fragment_pairs=20, decode_pairs=1,
    )
    need = 4 * 8 * 2000 * 16  # 1 MiB, whatever n is
    monkeypatch.setattr(validation, "available_memory", lambda: need + 1)
    run_module._context(z, None, "auto", None, **settings)
    monkeypatch.setattr(validation, "available_memory", lambda: need - 1)
    try:
        run_module._context(z, None, "auto", None, **settings)
    except LatentAtlasError as e:
        assert "--sample 2000 at N = 16" in str(e)
    else:
        raise AssertionError("an estimate above the available memory was not refused")
