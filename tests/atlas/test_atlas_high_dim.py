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
