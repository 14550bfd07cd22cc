"""A normalizing flow on z (zuko's MAF or NSF): an exact, invertible density model."""

from __future__ import annotations

import numpy as np
import torch
import zuko
from torch import nn

from latentatlas.generators.learned import fitting
from latentatlas.generators.learned.prior import TorchPrior

__all__ = ["Flow"]

FLOWS = ("maf", "nsf")


class Flow(TorchPrior):
    """A normalizing flow fitted by maximum likelihood to the standardised z-points.

    ``flow="maf"``: masked autoregressive flow (Papamakarios et al. 2017) with affine steps;
    ``"nsf"``: neural spline flow (Durkan et al. 2019), rational-quadratic splines on [-5, 5]
    (standardised z rarely leaves it). Both from `zuko <https://github.com/probabilists/zuko>`_,
    with the feature order reversed between consecutive transforms.

    ``score_samples`` is the exact log-density (zuko's ``log_prob``) plus the log-determinant of
    the standardisation. ``sample`` draws the base normal's noise from the numpy random state and
    inverts the flow (N sequential passes per autoregressive transform: sampling is slower than
    scoring).

    Parameters
    ----------
    flow : "maf" or "nsf"
    transforms : int
        Number of autoregressive transforms.
    hidden_features : tuple of int
        Hidden layer widths of each transform's masked MLP.
    bins : int
        Spline bins (``nsf`` only).
    whiten : bool
        Fit the flow to PCA-whitened z (True: it starts as the full-covariance Gaussian) or to
        per-component standardised z (False).
    validation_fraction : float in (0, 1)
        Share of the fit points held out for early stopping on their log-likelihood.
    max_epochs, batch_size, lr, patience : training (Adam; stop after ``patience`` epochs without
        a better held-out log-likelihood, keeping the best weights).
    random_state : int
        Seeds the split, the initial weights and the batch order (same seed, same fit on the
        same device).
    device : "auto", "cpu", "cuda", ...
        Where to fit (``auto``: CUDA when present); sampling and scoring always run on the CPU.
    progress : bool
        Show a progress bar (stderr) while fitting.
    temperature : float > 0
        Scales samples about the mean (see :class:`~latentatlas.generators.base.BaseGenerator`).

    Attributes
    ----------
    net_ : zuko.flows.Flow
        The fitted flow, on the CPU, in eval mode.
    mean_ : ndarray, shape (N,)
    whitening_, coloring_ : ndarray, shape (N, N)
    log_det_ : float
        The affine map to the network's coordinates, its inverse and its log-determinant.
    heldout_loss_ : float
        Best held-out negative log-likelihood, nats per dimension of the network's coordinates.
    n_epochs_, best_epoch_, history_, fit_seconds_, fit_device_, n_fit_, n_heldout_
    n_features_in_ : int
    """

    def __init__(
        self,
        flow: str = "maf",
        transforms: int = 5,
        hidden_features: tuple[int, ...] = (256, 256),
        bins: int = 8,
        whiten: bool = True,
        validation_fraction: float = 0.1,
        max_epochs: int = 50,
        batch_size: int = 256,
        lr: float = 1e-3,
        patience: int = 5,
        random_state: int = 0,
        device: str = "auto",
        progress: bool = True,
        temperature: float = 1.0,
    ) -> None:
        self.flow = flow
        self.transforms = transforms
        self.hidden_features = hidden_features
        self.bins = bins
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

    def _build(self, n_features: int) -> nn.Module:
        hidden = tuple(int(h) for h in self.hidden_features)
        if self.flow == "maf":
            return zuko.flows.MAF(
                n_features, transforms=int(self.transforms), hidden_features=hidden
            )
        if self.flow == "nsf":
            return zuko.flows.NSF(
                n_features,
                transforms=int(self.transforms),
                hidden_features=hidden,
                bins=int(self.bins),
            )
        raise ValueError(f"flow must be one of {FLOWS}, got {self.flow!r}")

    def _loss(self, x: torch.Tensor) -> torch.Tensor:
        return -self.net_().log_prob(x).mean() / x.shape[1]

    def _log_prob_std(self, x: torch.Tensor) -> torch.Tensor:
        dist = self.net_()
        return fitting.batched(dist.log_prob, x)

    def _sample_std(self, n: int, rng: np.random.Generator) -> torch.Tensor:
        # The base distribution is N(0, I): draw it here rather than with torch's RNG.
        eps = fitting.as_tensor(rng.standard_normal((n, self._inner_dim())))
        return fitting.batched(self.net_().transform.inv, eps)
