"""Learned priors on z (torch): a normalizing flow, a latent diffusion model and a two-stage VAE.

Each is a :class:`latentatlas.generators.base.BaseGenerator` (fit, sample, score_samples,
temperature, save/load as JSON + arrays). This package imports torch; ``latentatlas.generators``
does not, and reaches these classes lazily by name (``generators.io.PRIOR_CLASSES``).

Modules:

    prior          TorchPrior: standardise z, hold out part of it, train with early stopping
    fitting        what the priors share: device, seeding, the training loop, tensors <-> arrays
    flow           Flow: a normalizing flow (zuko's MAF or NSF)
    diffusion      LatentDiffusion: a DDPM on z, sampled with DDIM
    two_stage_vae  TwoStageVAE: a VAE on z (Dai & Wipf 2019)

To add one: subclass TorchPrior in a module here, export it, and name it in
``generators.io.PRIOR_CLASSES`` and ``generators.registry.PRIORS``.
"""

from __future__ import annotations

from latentatlas.generators.learned.diffusion import LatentDiffusion
from latentatlas.generators.learned.flow import Flow
from latentatlas.generators.learned.two_stage_vae import TwoStageVAE

__all__ = ["Flow", "LatentDiffusion", "TwoStageVAE"]
