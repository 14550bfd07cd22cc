"""The spatial generator: a stationary Gaussian field fitted by FFT reproduces a spatial latent's
per-channel statistics, neighbour and cross-channel correlations; it needs the latent shape."""

from __future__ import annotations

import numpy as np
import pytest

from latentatlas.analysis.spatial import spatial_stats
from latentatlas.generators import StationaryGaussian


def test_reproduces_channel_stats_and_correlations(spatial_field):
    f = spatial_field
    gen = StationaryGaussian(latent_shape=list(f.shape)).fit(f.z)
    st = spatial_stats(gen.sample(300, random_state=0), f.shape, two_sample_points=0)
    assert (np.abs(st.channel_mean - f.mean) < 0.15 * f.std).all()
    np.testing.assert_allclose(st.channel_std, f.std, rtol=0.06)
    np.testing.assert_allclose(gen.channel_std(), f.std, rtol=0.06)
    # Fitted on the H x W torus: each row's wrap-around pair (correlation ~0 for this field)
    # counts as a neighbour, so neighbours correlate (H - 1) / H as much as in the data.
    np.testing.assert_allclose(st.lag1, f.rho * 15 / 16, atol=0.03)
    assert st.channel_corr[0, 2] == pytest.approx(f.cross, abs=0.05)
    assert abs(st.channel_corr[0, 1]) < 0.05
    # The density: the training points score like the model's own samples (same shape).
    own, real = gen.score_samples(gen.sample(200, random_state=1)), gen.score_samples(f.z)
    assert abs(np.median(real) - np.median(own)) < 3 * np.std(own)


def test_latent_shape_is_checked():
    Z = np.random.default_rng(0).standard_normal((20, 12))
    with pytest.raises(ValueError, match="needs latent_shape"):
        StationaryGaussian().fit(Z)
    with pytest.raises(ValueError, match=r"latent_shape \[2, 2, 2\] does not lay out the 12"):
        StationaryGaussian(latent_shape=(2, 2, 2)).fit(Z)
    assert StationaryGaussian(latent_shape=(3, 2, 2)).fit(Z).sample(4, 0).shape == (4, 12)
