"""Learned priors on z (torch): a normalizing flow, a latent diffusion model and a two-stage VAE.

Each is a :class:`latentatlas.generators.base.BaseGenerator` (fit, sample, score_samples,
temperature, save/load as JSON + arrays). This package imports torch; ``latentatlas.generators``
does not, and reaches these classes lazily by name.
"""

from __future__ import annotations

from latentatlas.generators.learned.diffusion import LatentDiffusion
from latentatlas.generators.learned.flow import Flow
from latentatlas.generators.learned.two_stage_vae import TwoStageVAE

__all__ = ["Flow", "LatentDiffusion", "TwoStageVAE"]
