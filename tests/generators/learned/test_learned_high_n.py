"""The learned priors at N = 4,096 with n = 200: the network sees the top principal
coordinates, the other directions a Gaussian rest (one wrapper shared by every prior)."""

from __future__ import annotations

import numpy as np
import pytest

from latentatlas.generators import load_generator, save_generator
from latentatlas.generators.learned import Flow, LatentDiffusion, TwoStageVAE

N, RANK = 4096, 4
FAST = dict(progress=False, max_epochs=2, batch_size=64, patience=2)
TINY = {
    "flow": lambda: Flow(transforms=1, hidden_features=(16,), **FAST),
    "diffusion": lambda: LatentDiffusion(
        hidden=16, n_blocks=1, embed_dim=8, timesteps=20, sampling_steps=4, elbo_samples=2, **FAST
    ),
    "vae2": lambda: TwoStageVAE(hidden=16, depth=1, iw_samples=4, **FAST),
}


@pytest.fixture(scope="module")
def wide() -> np.ndarray:
    rng = np.random.default_rng(4)
    W = rng.standard_normal((N, RANK)) * 2.0
    return rng.standard_normal((240, RANK)) @ W.T + 0.5 * rng.standard_normal((240, N))


@pytest.mark.parametrize("name", list(TINY))
def test_priors_fit_in_the_principal_subspace_at_high_n(wide, tmp_path, name):
    gen = TINY[name]().fit(wide[:200])
    assert gen.n_features_in_ == N and gen._inner_dim() == RANK
    assert gen.fitted_params()["subspace"]["n_components"] == RANK
    X = gen.sample(10, random_state=0)
    assert X.shape == (10, N) and np.isfinite(X).all()
    s = gen.score_samples(wide[200:])
    assert s.shape == (40,) and np.isfinite(s).all()
    back = load_generator(save_generator(gen, tmp_path / name))
    np.testing.assert_array_equal(back.sample(10, random_state=0), X)
    np.testing.assert_array_equal(back.score_samples(wide[200:]), s)
