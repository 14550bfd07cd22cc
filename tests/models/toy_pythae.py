"""A pythae VAE with a custom encoder (pickled by pythae's ``save``) for the loader tests."""

from __future__ import annotations

import torch
from pythae.models.base.base_utils import ModelOutput
from pythae.models.nn import BaseEncoder
from torch import nn


class FlatEncoder(BaseEncoder):
    def __init__(self, side: int = 16, latent_dim: int = 8) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.linear = nn.Linear(3 * side * side, 2 * latent_dim)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        h = self.linear(x.reshape(len(x), -1))
        return ModelOutput(
            embedding=h[:, : self.latent_dim], log_covariance=h[:, self.latent_dim :]
        )
