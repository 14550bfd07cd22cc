"""Spatial latents (C x H x W): the analysis recovers a synthetic field's known per-channel
statistics, neighbour correlations and cross-channel correlation, block by block."""

from __future__ import annotations

import math

import numpy as np
import pytest

from latentatlas.analysis import spatial
from latentatlas.analysis.spatial import spatial_shape, spatial_stats
from latentatlas.core.errors import LatentAtlasError

META = {"scaling_factor": 0.5, "shift_factor": 0.2}


@pytest.fixture(scope="module")
def field_stats(spatial_field):
    return spatial_stats(spatial_field.z, spatial_field.shape, META, two_sample_points=100)


def test_recovers_channel_moments(spatial_field, field_stats):
    f, st = spatial_field, field_stats
    assert (np.abs(st.channel_mean - f.mean) < 0.15 * f.std).all()
    np.testing.assert_allclose(st.channel_std, f.std, rtol=0.06)
    assert np.abs(st.channel_skewness).max() < 0.15
    assert np.abs(st.channel_kurtosis).max() < 0.3
    # Histograms count every value once, over each channel's range.
    assert (st.hist_counts.sum(axis=1) == len(f.z) * 16 * 16).all()
    assert st.mean_map.shape == st.std_map.shape == f.shape
    np.testing.assert_allclose(st.std_map.mean(axis=(1, 2)), f.std, rtol=0.1)


def test_recovers_spatial_and_cross_channel_correlation(spatial_field, field_stats):
    f, st = spatial_field, field_stats
    np.testing.assert_allclose(st.lag1, f.rho, atol=0.03)
    # Correlation rho**(|dy| + |dx|): at distance d it lies between rho**(sqrt(2) d) (diagonal)
    # and rho**d (along an axis), so 1/e is crossed between those two distances (+- the
    # half-position of binning by rounded distance).
    length = st.corr_length_e[0]
    assert -1 / (math.sqrt(2) * math.log(0.8)) - 0.5 < length < -1 / math.log(0.8) + 0.5
    assert st.corr_length_e[1] < 1 < st.corr_length_e[2]
    assert st.acf[:, 0] == pytest.approx(1.0)
    assert st.channel_corr[0, 2] == pytest.approx(f.cross, abs=0.05)
    assert abs(st.channel_corr[0, 1]) < 0.05 and abs(st.channel_corr[1, 2]) < 0.05


def test_scale_and_shift_standardise_the_raw_latents(spatial_field, field_stats):
    sc = field_stats.scaling
    raw = spatial_field.z / 0.5 + 0.2  # z = (raw - shift_factor) * scaling_factor
    z = (raw - sc["shift_factor_for_zero_mean"]) * sc["scaling_factor_for_unit_std"]
    assert z.mean() == pytest.approx(0, abs=1e-9) and z.std() == pytest.approx(1, rel=1e-9)
    rms = np.sqrt(np.mean((raw * sc["scaling_factor_for_unit_rms_without_shift"]) ** 2))
    assert rms == pytest.approx(1, rel=1e-9)
    per = raw.reshape(len(raw), 3, -1)
    zc = (per - sc["per_channel_shift_factor"][:, None]) * sc["per_channel_scaling_factor"][:, None]
    np.testing.assert_allclose(zc.mean(axis=(0, 2)), 0, atol=1e-9)
    np.testing.assert_allclose(zc.std(axis=(0, 2)), 1, rtol=1e-9)
    v = field_stats.verdict
    assert v.startswith("At the configured scaling_factor 0.5 and shift_factor 0.2 the latents")
    assert f"standard deviation {spatial_field.z.std():.3g}" in v and "unit variance needs" in v
    assert "3 of 3 channels are not zero-mean" in v and "miss the latents' shell" in v
    gap = field_stats.gaussian_gap
    assert gap["radius_share_in_normal_shell"] == 0 and gap["mmd_vs_normal"]["p_value"] < 0.05


def test_unit_white_noise_is_close_to_normal():
    z = np.random.default_rng(1).standard_normal((200, 4 * 8 * 8))
    st = spatial_stats(z, (4, 8, 8), {}, two_sample_points=100)
    gap = st.gaussian_gap
    assert gap["radius_share_in_normal_shell"] > 0.95
    assert gap["median_radius_over_sqrt_n"] == pytest.approx(1, abs=0.02)
    assert max(gap["per_channel_kl"]) < 0.01 and gap["mmd_vs_normal"]["p_value"] > 0.05
    assert np.abs(st.lag1).max() < 0.05 and max(st.corr_length_e) < 1
    assert st.verdict.startswith("As stored (the model configures no scaling_factor)")
    assert "unit variance overall" in st.verdict and "channels are not" not in st.verdict
    assert "samples of N(0, I) land where the latents are" in st.verdict


def test_blocks_and_memmap_give_the_same_numbers(spatial_field, tmp_path, monkeypatch):
    z32 = spatial_field.z.astype(np.float32)
    np.save(tmp_path / "z.npy", z32)
    whole = spatial_stats(z32, spatial_field.shape, META, two_sample_points=0).to_dict()
    monkeypatch.setattr(spatial, "BLOCK_VALUES", 3000)  # blocks of 3 rows
    mapped = np.load(tmp_path / "z.npy", mmap_mode="r")
    blocks = spatial_stats(mapped, spatial_field.shape, META, two_sample_points=0).to_dict()
    assert blocks.keys() == whole.keys()
    for key in ("channels", "channel_correlation", "autocorrelation", "scaling"):
        np.testing.assert_allclose(_numbers(blocks[key]), _numbers(whole[key]), rtol=1e-9)


def _numbers(obj) -> list[float]:
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _numbers(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in _numbers(v)]
    return [] if obj is None or isinstance(obj, str) else [float(obj)]


def test_spatial_shape():
    assert spatial_shape({"latent_shape": [4, 8, 8]}, 256) == (4, 8, 8)
    assert spatial_shape({"latent_shape": [256]}, 256) is None
    assert spatial_shape({"latent_shape": [256, 1, 1]}, 256) is None  # one position
    assert spatial_shape({}, 256) is None
    with pytest.raises(LatentAtlasError, match="does not multiply out to N = 256"):
        spatial_shape({"latent_shape": [4, 8, 4]}, 256)
    with pytest.raises(ValueError, match=r"\(n, 256\) array"):
        spatial_stats(np.zeros((5, 128)), (4, 8, 8))
