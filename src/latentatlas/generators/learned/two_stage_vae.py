"""The second stage of a two-stage VAE (Dai & Wipf 2019, "Diagnosing and enhancing VAE models"):
a small VAE fitted on the first model's z-points, sampled from its own N(0, I) prior."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from latentatlas.core.rng import stream
from latentatlas.generators.learned import fitting
from latentatlas.generators.learned.prior import TorchPrior, log_normal

__all__ = ["TwoStageVAE"]

IWAE_NOISE_STREAM = 29  # stream purpose: the importance-weighted bound's shared noise


class MLP(nn.Module):
    """An MLP plus a linear path from input to output: the linear part alone is probabilistic
    PCA (a full-covariance Gaussian when the latent is as wide as z), which the network then
    only has to improve on, instead of first learning it through the nonlinearities."""

    def __init__(self, n_in: int, n_out: int, hidden: int, depth: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(depth):
            layers += [nn.Linear(n_in if i == 0 else hidden, hidden), nn.SiLU()]
        self.mlp = nn.Sequential(*layers, nn.Linear(hidden, n_out))
        self.linear = nn.Linear(n_in, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) + self.mlp(x)


class VAE(nn.Module):
    """Gaussian encoder and decoder, and one learned decoder variance gamma (Dai & Wipf's key
    ingredient: gamma shrinks as the fit improves, so the decoder can become sharp)."""

    def __init__(self, n_features: int, latent_dim: int, hidden: int, depth: int) -> None:
        super().__init__()
        self.encoder = MLP(n_features, 2 * latent_dim, hidden, depth)
        self.decoder = MLP(latent_dim, n_features, hidden, depth)
        self.log_gamma = nn.Parameter(torch.zeros(()))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, log_var = self.encoder(x).chunk(2, dim=-1)
        return mu, log_var.clamp(-20.0, 10.0)

    def log_likelihood(self, x: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
        """log N(x; mean, gamma I), summed over the last axis."""
        g = self.log_gamma
        N = x.shape[-1]
        return -0.5 * ((x - mean).pow(2).sum(-1) * torch.exp(-g) + N * (g + math.log(2 * math.pi)))


class TwoStageVAE(TorchPrior):
    """A VAE on the standardised z-points with a learned decoder variance, sampled from its prior.

    ``sample`` draws ``u ~ N(0, I)`` and returns ``decoder(u) + sqrt(gamma) * e`` with
    ``e ~ N(0, I)`` (the model's own marginal; Dai & Wipf return the decoder mean, which differs
    by the learned noise, typically small once gamma has shrunk). All randomness comes from the
    numpy random state.

    ``score_samples`` is an importance-weighted estimate (IWAE, Burda et al. 2016) of the
    marginal log-density, ``log (1/K) sum_k p(x, u_k) / q(u_k | x)`` with ``K = iw_samples``
    draws from the encoder, plus the standardisation's log-determinant. It is a **lower bound in
    expectation** (tighter as K grows). The encoder's noise is fixed by ``random_state`` and
    shared by all rows, so a point's score is deterministic and does not depend on the other
    rows. Training maximises the ELBO (K = 1); early stopping uses the held-out IWAE estimate.

    Parameters
    ----------
    latent_dim : int or None
        Dimension of u (None: the same as z, as Dai & Wipf).
    hidden : int
        Width of the encoder's and decoder's hidden layers.
    depth : int
        Hidden layers in each of them.
    iw_samples : int
        K of the importance-weighted estimate.
    whiten, validation_fraction, max_epochs, batch_size, lr, patience, random_state, device,
    progress, temperature
        As in :class:`~latentatlas.generators.learned.Flow`.

    Attributes
    ----------
    net_ : VAE
    gamma_ : float
        The learned decoder variance (standardised units).
    mean_, whitening_, coloring_, log_det_
        As in :class:`~latentatlas.generators.learned.Flow`.
    heldout_loss_ : float
        Best held-out negative IWAE estimate, nats per dimension of the network's coordinates.
    n_epochs_, best_epoch_, history_, fit_seconds_, fit_device_, n_fit_, n_heldout_
    n_features_in_ : int
    """

    def __init__(
        self,
        latent_dim: int | None = None,
        hidden: int = 512,
        depth: int = 2,
        iw_samples: int = 64,
        whiten: bool = True,
        validation_fraction: float = 0.1,
        max_epochs: int = 150,
        batch_size: int = 128,
        lr: float = 1e-3,
        patience: int = 15,
        random_state: int = 0,
        device: str = "auto",
        progress: bool = True,
        temperature: float = 1.0,
    ) -> None:
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.depth = depth
        self.iw_samples = iw_samples
        self.whiten = whiten
        self.validation_fraction = validation_fraction
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.patience = patience
        self.random_state = random_state
        self.device = device
        self.progress = progress
        self.temperature = temperature

    def _latent(self, n_features: int) -> int:
        return n_features if self.latent_dim is None else int(self.latent_dim)

    def _build(self, n_features: int) -> nn.Module:
        if self._latent(n_features) < 1 or int(self.iw_samples) < 1:
            raise ValueError(
                f"latent_dim and iw_samples must be >= 1, got {self.latent_dim!r}, "
                f"{self.iw_samples!r}"
            )
        return VAE(n_features, self._latent(n_features), int(self.hidden), int(self.depth))

    @property
    def gamma_(self) -> float:
        self.check_is_fitted()
        return float(torch.exp(self.net_.log_gamma.detach()))

    def _loss(self, x: torch.Tensor) -> torch.Tensor:
        net: VAE = self.net_
        mu, log_var = net.encode(x)
        u = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        kl = 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum(-1)
        return -(net.log_likelihood(x, net.decoder(u)) - kl).mean() / x.shape[1]

    def _heldout_loss(self, x: torch.Tensor) -> torch.Tensor:
        return -self._iwae(x).mean() / x.shape[1]

    def _iwae(self, x: torch.Tensor) -> torch.Tensor:
        net: VAE = self.net_
        n, N = x.shape
        K, L = int(self.iw_samples), self._latent(N)
        e = torch.as_tensor(
            stream(self.random_state, IWAE_NOISE_STREAM).standard_normal((K, 1, L)),
            dtype=torch.float32,
            device=x.device,
        )
        mu, log_var = net.encode(x)
        std = torch.exp(0.5 * log_var)
        u = mu + std * e  # (K, n, L): the same K draws of e for every row
        log_q = log_normal(e) - 0.5 * log_var.sum(-1)
        log_w = net.log_likelihood(x, net.decoder(u)) + log_normal(u) - log_q
        return torch.logsumexp(log_w, dim=0) - math.log(K)

    def _log_prob_std(self, x: torch.Tensor) -> torch.Tensor:
        return fitting.batched(self._iwae, x, batch_size=256)

    def _sample_std(self, n: int, rng: np.random.Generator) -> torch.Tensor:
        N = self._inner_dim()
        u = fitting.as_tensor(rng.standard_normal((n, self._latent(N))))
        e = fitting.as_tensor(rng.standard_normal((n, N)))
        net: VAE = self.net_
        return fitting.batched(net.decoder, u) + torch.exp(0.5 * net.log_gamma) * e

    def _summary(self) -> dict:
        return {**super()._summary(), "gamma": self.gamma_}
