"""Tiny configurations of each learned prior: seconds to fit on the 2-d test blobs."""

from __future__ import annotations

import numpy as np

from latentatlas.generators.learned import Flow, LatentDiffusion, TwoStageVAE

# The test blobs' centres (see conftest.blobs).
CENTRES = np.array([[-4.0, -1.0], [4.0, 1.0]])

COMMON = dict(progress=False, batch_size=64, patience=5)
# Whitening the two blobs squeezes each into a sliver (the covariance is mostly the gap between
# them); the denoiser and the VAE, small and briefly trained, place them better per component.
PER_COMPONENT = dict(whiten=False)

TINY = {
    # Affine steps make two modes out of one slowly: MAF gets more epochs than the spline flow.
    "flow": lambda: Flow(
        transforms=3, hidden_features=(32, 32), max_epochs=40, lr=3e-3, **{**COMMON, "patience": 10}
    ),
    "nsf-nowhiten": lambda: Flow(
        flow="nsf",
        whiten=False,
        transforms=3,
        hidden_features=(32, 32),
        max_epochs=25,
        lr=3e-3,
        **COMMON,
    ),
    "diffusion": lambda: LatentDiffusion(
        hidden=64,
        n_blocks=2,
        embed_dim=16,
        timesteps=100,
        sampling_steps=20,
        elbo_samples=16,
        **PER_COMPONENT,
        # Denoisers need more, smaller steps than the others to place the blobs.
        **{**COMMON, "batch_size": 32, "patience": 40},
        max_epochs=40,
        lr=1e-3,
    ),
    # The learned decoder variance shrinks slowly: many cheap epochs.
    "vae2": lambda: TwoStageVAE(
        latent_dim=2,
        hidden=32,
        iw_samples=32,
        **PER_COMPONENT,
        **{**COMMON, "patience": 30},
        max_epochs=200,
        lr=3e-3,
    ),
}
