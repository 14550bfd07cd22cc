"""The spatial-latents section: numbers and figures for a store with a C x H x W latent shape,
one line for a store without."""

from __future__ import annotations

import json
from html import escape as html_escape
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from latentatlas.atlas.context import AtlasContext
from latentatlas.atlas.sections import SECTIONS
from latentatlas.atlas.sections.spatial import section_spatial
from latentatlas.core.html import Page
from latentatlas.data.store import ZStore, load_store, save_store


def run_section(store: ZStore) -> tuple[dict[str, Any], Page]:
    """The spatial section alone, on a store (no other section needed)."""
    ctx = AtlasContext(
        z=store.z,
        store=store,
        source="test",
        b_arg="auto",
        sample=100,
        seed=0,
        prdc_sample=100,
        plot_points=100,
        mc=100,
        normality_sample=100,
        user_pairs=[],
    )
    page = Page("test")
    section_spatial(ctx, page)
    return ctx.summary["spatial"], page


def test_spatial_section_recovers_the_field(spatial_field, tmp_path: Path) -> None:
    f = spatial_field
    n = len(f.z)
    meta = {"latent_shape": list(f.shape), "scaling_factor": 0.5, "shift_factor": None}
    save_store(tmp_path / "s", f.z, np.arange(n).astype(str), np.zeros(n), meta=meta)
    summary, page = run_section(load_store(tmp_path / "s"))  # float32, memory-mapped
    assert "spatial latents" in [name for name, _ in SECTIONS]
    json.dumps(summary, allow_nan=False)  # summary.json is strict JSON
    channels = summary["channels"]
    assert [c["lag1_correlation"] for c in channels] == pytest.approx(list(f.rho), abs=0.03)
    assert [c["std"] for c in channels] == pytest.approx(list(f.std), rel=0.06)
    assert summary["channel_correlation"][0][2] == pytest.approx(f.cross, abs=0.05)
    assert summary["scaling"]["configured_scaling_factor"] == 0.5
    assert summary["scaling"]["scaling_factor_for_unit_std"] == pytest.approx(0.5 / f.z.std(), 1e-5)
    assert set(page.pngs) == {
        "spatial_channel_hist",
        "spatial_maps",
        "spatial_autocorrelation",
        "spatial_channel_corr",
    }
    html = page.render()
    assert summary["verdict"].startswith("At the configured scaling_factor 0.5 the latents")
    assert html_escape(summary["verdict"]) in html


def test_store_without_shape_gets_one_line(z16: np.ndarray) -> None:
    flat = ZStore(z16, np.arange(len(z16)).astype(str), np.zeros(len(z16), np.uint8))
    flat.meta["latent_shape"] = [z16.shape[1]]
    summary, page = run_section(flat)
    assert summary is None and not page.pngs
    assert "The store records no spatial latent shape" in page.render()
